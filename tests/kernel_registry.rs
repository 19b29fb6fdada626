//! The kernel registry (`fpgen::gpu::registry`) is true: every uniform mirror has the
//! size and member offsets naga computes for its WGSL struct, every uniform block of a
//! shader has a mirror, every host and twin it names exists, and shaders/README.md lists
//! every kernel with them. Runs without a GPU.

use std::path::Path;

use fpgen::gpu::registry::{UniformLayout, ALL};

/// Every `#[repr(C)]` mirror of a WGSL struct.
const LAYOUTS: &[UniformLayout] = &[
    fpgen::forward::gpu::STEP_PARAMS_LAYOUT,
    fpgen::forward::gpu::STEP_STATE_LAYOUT,
    fpgen::forward::gpu::reduce::REDUCE_PARAMS_LAYOUT,
    fpgen::forward::gpu::render::COLORMAP_PARAMS_LAYOUT,
    fpgen::gpu::rng_check::CHECK_PARAMS_LAYOUT,
    fpgen::particles::gpu::PARTICLE_PARAMS_LAYOUT,
    fpgen::reverse::gpu_pde::REVERSE_PARAMS_LAYOUT,
    fpgen::reverse::gpu_particles::MOVE_PARAMS_LAYOUT,
    fpgen::diffusion::gpu::SCORE_PARAMS_LAYOUT,
    fpgen::forward::gpu::MODEL_LAYOUT,
    fpgen::forward::gpu::model_check::MODEL_CHECK_PARAMS_LAYOUT,
];

/// (size, [(member, offset)]) of the WGSL struct `name` by naga's layout.
fn naga_struct(module: &naga::Module, name: &str) -> Option<(usize, Vec<(String, usize)>)> {
    module.types.iter().find_map(|(_, t)| match (&t.name, &t.inner) {
        (Some(n), naga::TypeInner::Struct { members, span }) if n == name => Some((
            *span as usize,
            members.iter().map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize)).collect(),
        )),
        _ => None,
    })
}

#[test]
fn every_uniform_mirror_matches_its_shader_struct() {
    let mut checked = Vec::new();
    for m in ALL {
        let module = naga::front::wgsl::parse_str(m.source).expect("shader parses");
        for &mirror in m.mirrors {
            let layout = LAYOUTS
                .iter()
                .find(|l| l.name == mirror)
                .unwrap_or_else(|| panic!("{}: no Rust layout for the mirror {mirror}", m.name));
            let (size, members) =
                naga_struct(&module, mirror).unwrap_or_else(|| panic!("{}: no WGSL struct {mirror}", m.name));
            assert_eq!(layout.size, size, "{}: size of {mirror} (Rust vs WGSL)", m.name);
            for (member, offset) in members.iter().filter(|(n, _)| !n.starts_with('_')) {
                let rust = layout.fields.iter().find(|(n, _)| n == member);
                assert_eq!(
                    rust.map(|(_, o)| *o),
                    Some(*offset),
                    "{}: {mirror}.{member} at WGSL offset {offset}",
                    m.name
                );
            }
            for (field, _) in layout.fields {
                assert!(
                    members.iter().any(|(n, _)| n == field),
                    "{}: Rust field {mirror}.{field} is not in the shader",
                    m.name
                );
            }
            checked.push(mirror);
        }
        // every uniform block the shader declares has a Rust mirror in the registry
        for (_, var) in module.global_variables.iter() {
            if var.space == naga::AddressSpace::Uniform {
                let ty = module.types[var.ty].name.clone().unwrap_or_default();
                assert!(
                    m.mirrors.contains(&ty.as_str()),
                    "{}: uniform {ty} has no mirror in the registry",
                    m.name
                );
            }
        }
    }
    for l in LAYOUTS {
        assert!(checked.contains(&l.name), "layout {} is named by no module", l.name);
    }
}

/// `a::b::Item::method` names an item in src/a/b.rs (or src/a/b/mod.rs); the file must
/// define (or mention) the item.
fn resolves(path: &str) -> bool {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let segments: Vec<&str> = path.split("::").collect();
    (1..segments.len()).rev().any(|k| {
        let dir = segments[..k].join("/");
        [src.join(format!("{dir}.rs")), src.join(&dir).join("mod.rs")].iter().any(|file| {
            std::fs::read_to_string(file).is_ok_and(|text| {
                segments[k..].iter().all(|item| {
                    text.contains(&format!("fn {item}"))
                        || text.contains(&format!("struct {item}"))
                        || text.contains(&format!("enum {item}"))
                })
            })
        })
    })
}

#[test]
fn every_host_and_twin_exists() {
    for m in ALL {
        assert!(resolves(m.host), "{}: host {} not found under src/", m.name, m.host);
        for twin in m.twins {
            assert!(resolves(twin), "{}: twin {twin} not found under src/", m.name);
        }
    }
}

#[test]
fn shaders_readme_lists_every_kernel_with_its_host_and_twins() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/README.md"))
        .expect("shaders/README.md");
    for m in ALL {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}`", m.name)))
            .unwrap_or_else(|| panic!("shaders/README.md has no row for `{}`", m.name));
        for part in m.parts.iter().copied().chain([m.host]).chain(m.twins.iter().copied()) {
            assert!(row.contains(&format!("`{part}`")), "shaders/README.md row `{}` lacks `{part}`", m.name);
        }
    }
}
