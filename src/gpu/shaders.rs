//! WGSL sources, embedded at build time; each kernel has a CPU twin in `forward::cpu`.
//! WGSL has no includes: a module is the concatenation of its parts, listed by file.

/// A compiled unit: its parts in order, and their concatenated source.
pub struct Module {
    pub name: &'static str,
    pub parts: &'static [&'static str],
    pub source: &'static str,
}

macro_rules! module {
    ($name:literal: $($part:literal),+) => {
        Module {
            name: $name,
            parts: &[$($part),+],
            source: concat!($(include_str!(concat!("../../shaders/", $part))),+),
        }
    };
}

/// The upwind scheme's step (twin: `Upwind::update_rows`, `Upwind::max_rate_weight`).
pub const FV_UPWIND: Module = module!("fv_upwind": "fv_upwind.wgsl", "fv_step.wgsl", "shared/power.wgsl");

/// The gradient-flow scheme's step (twin: `GradientFlow`, `gradient_flow_rate`).
pub const FV_GRADIENT_FLOW: Module =
    module!("fv_gradient_flow": "fv_gradient_flow.wgsl", "fv_step.wgsl", "shared/power.wgsl");

/// Diagnostics reductions (twin: `CpuBackend::diagnostics`).
pub const REDUCE: Module = module!("reduce": "reduce.wgsl");

/// Colour-mapped frames (twin: `io::frames::render`).
pub const COLORMAP: Module = module!("colormap": "colormap.wgsl");

/// The shared random numbers, writing their output for a check against the CPU (twin:
/// `rng`).
pub const RNG_CHECK: Module = module!("rng_check": "shared/rng.wgsl", "rng_check.wgsl");

/// The particle system (twin: `particles::ParticleSystem`).
pub const PARTICLES: Module =
    module!("particles": "shared/rng.wgsl", "shared/power.wgsl", "shared/reflect.wgsl", "particles.wgsl");

/// The reverse-time PDE with log-difference scores (twin: `reverse::pde::ReversePde`).
pub const REVERSE_PDE: Module = module!("reverse_pde": "reverse_pde.wgsl", "shared/power.wgsl");

/// Reverse particles moved by face velocities from the host (twin:
/// `reverse::particles::move_particles`).
pub const REVERSE_PARTICLES: Module =
    module!("reverse_particles": "shared/rng.wgsl", "shared/reflect.wgsl", "reverse_particles.wgsl");

/// Point-cloud scores and the reverse samplers' step (twins: `model::score::posterior`,
/// `diffusion::sampler::CpuSampler`).
pub const SCORE: Module = module!("score": "shared/rng.wgsl", "score.wgsl");

/// Every module (validated with naga in the tests).
pub const ALL: &[Module] = &[
    FV_UPWIND,
    FV_GRADIENT_FLOW,
    REDUCE,
    COLORMAP,
    RNG_CHECK,
    PARTICLES,
    REVERSE_PDE,
    REVERSE_PARTICLES,
    SCORE,
];

/// Size in bytes of the WGSL struct `name` in module `m` by naga's layout, for tests that
/// check a Rust mirror of a uniform block (a field added on one side only fails there).
#[cfg(test)]
pub fn struct_size(m: &Module, name: &str) -> usize {
    let module = naga::front::wgsl::parse_str(m.source).expect("shader parses");
    let size = module
        .types
        .iter()
        .find_map(|(_, t)| match (&t.name, &t.inner) {
            (Some(n), naga::TypeInner::Struct { span, .. }) if n == name => Some(*span as usize),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no struct {name} in {}", m.name));
    size
}

#[cfg(test)]
mod tests {
    /// Parse and validate every module with naga: a broken shader fails here even
    /// where no GPU exists.
    #[test]
    fn every_shader_parses_and_validates() {
        for m in super::ALL {
            let module = naga::front::wgsl::parse_str(m.source)
                .unwrap_or_else(|e| panic!("{}: {}", m.name, e.emit_to_string(m.source)));
            let mut validator = naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::default(),
            );
            if let Err(e) = validator.validate(&module) {
                panic!("{}: {}", m.name, e.emit_to_string(m.source));
            }
        }
    }

    /// Every .wgsl file in shaders/ (and shaders/shared/) is part of some module, so none
    /// escapes validation.
    #[test]
    fn all_shader_files_are_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
        for sub in ["", "shared/"] {
            for entry in std::fs::read_dir(root.join(sub)).unwrap() {
                let name = format!("{sub}{}", entry.unwrap().file_name().to_string_lossy());
                if !name.ends_with(".wgsl") {
                    continue;
                }
                assert!(
                    super::ALL.iter().any(|m| m.parts.contains(&name.as_str())),
                    "{name} is not part of any module in shaders::ALL"
                );
            }
        }
    }
}
