//! The kernel registry: every WGSL module, embedded at build time, with its Rust host, its
//! CPU twins and its uniform mirrors. WGSL has no includes: a module is the concatenation
//! of its parts, listed by file.

/// A compiled unit: its parts in order, their concatenated source, the Rust host that
/// dispatches it, its CPU twin (paths under `src/`, checked by a test), and the WGSL
/// structs that have a `#[repr(C)]` Rust mirror of the same name (their layouts are
/// checked against naga by `tests/kernel_registry.rs`).
pub struct Module {
    pub name: &'static str,
    pub parts: &'static [&'static str],
    pub source: &'static str,
    pub host: &'static str,
    pub twins: &'static [&'static str],
    pub mirrors: &'static [&'static str],
}

macro_rules! module {
    ($name:literal: $($part:literal),+; host $host:literal; twins [$($twin:literal),+]; mirrors [$($mirror:literal),*]) => {
        Module {
            name: $name,
            parts: &[$($part),+],
            source: concat!($(include_str!(concat!("../../shaders/", $part))),+),
            host: $host,
            twins: &[$($twin),+],
            mirrors: &[$($mirror),*],
        }
    };
}

/// The upwind scheme's step.
pub const FV_UPWIND: Module = module!("fv_upwind": "fv_upwind.wgsl", "shared/fv_step.wgsl", "shared/model.wgsl";
    host "forward::gpu::stepper::GpuStepper";
    twins ["forward::cpu::schemes::Upwind::update_rows", "forward::cpu::schemes::Upwind::max_rate_weight", "model::physics::Physics"];
    mirrors ["StepParams", "StepState", "Model"]);

/// The gradient-flow scheme's step.
pub const FV_GRADIENT_FLOW: Module = module!("fv_gradient_flow": "fv_gradient_flow.wgsl", "shared/fv_step.wgsl", "shared/model.wgsl";
    host "forward::gpu::stepper::GpuStepper";
    twins ["forward::cpu::schemes::GradientFlow", "forward::cpu::bound::gradient_flow_rate", "model::physics::Physics"];
    mirrors ["StepParams", "StepState", "Model"]);

/// Diagnostics reductions (mass, extremes, norms, entropy, moments).
pub const REDUCE: Module = module!("reduce": "reduce.wgsl", "shared/model.wgsl";
    host "forward::gpu::reduce::GpuReducer";
    twins ["forward::cpu::CpuBackend::diagnostics", "model::physics::Physics"];
    mirrors ["ReduceParams", "Model"]);

/// Colour-mapped frames.
pub const COLORMAP: Module = module!("colormap": "colormap.wgsl";
    host "forward::gpu::render::GpuRenderer";
    twins ["io::frames::render", "io::frames::entry"];
    mirrors ["ColormapParams"]);

/// The shared random numbers, writing their output for a check against the CPU.
pub const RNG_CHECK: Module = module!("rng_check": "shared/rng.wgsl", "rng_check.wgsl";
    host "gpu::rng_check::generate";
    twins ["rng::philox4x32_10", "rng::normals4"];
    mirrors ["CheckParams"]);

/// The particle system (deposit, smoothing, gather, step).
pub const PARTICLES: Module = module!("particles": "shared/rng.wgsl", "shared/model.wgsl", "shared/reflect.wgsl", "particles.wgsl";
    host "particles::gpu::GpuParticles";
    twins ["particles::ParticleSystem", "particles::deposit::CicGrid", "model::physics::Physics"];
    mirrors ["ParticleParams", "Model"]);

/// The reverse-time PDE with log-difference face scores.
pub const REVERSE_PDE: Module = module!("reverse_pde": "reverse_pde.wgsl", "shared/model.wgsl";
    host "reverse::gpu_pde::GpuReversePde";
    twins ["reverse::pde::ReversePde", "model::physics::Physics"];
    mirrors ["ReverseParams", "Model"]);

/// Reverse particles moved by face velocities from the host.
pub const REVERSE_PARTICLES: Module = module!("reverse_particles": "shared/rng.wgsl", "shared/reflect.wgsl", "reverse_particles.wgsl";
    host "reverse::gpu_particles::GpuReverseParticles";
    twins ["reverse::particles::move_particles"];
    mirrors ["MoveParams"]);

/// Point-cloud scores and the reverse samplers' step.
pub const SCORE: Module = module!("score": "shared/rng.wgsl", "score.wgsl";
    host "diffusion::gpu::GpuSampler";
    twins ["model::score::posterior", "diffusion::sampler::CpuSampler"];
    mirrors ["ScoreParams"]);

/// A read-once/write-once copy: the bandwidth yardstick of bench-suite.
pub const COPY: Module = module!("copy": "copy.wgsl";
    host "gpu::copy::CopyKernel";
    twins ["gpu::copy::copy_twin"];
    mirrors []);

/// The model's functions evaluated on a list of densities (compared with `Physics`).
pub const MODEL_CHECK: Module = module!("model_check": "shared/model.wgsl", "model_check.wgsl";
    host "forward::gpu::model_check::evaluate";
    twins ["model::physics::Physics", "forward::gpu::model_check::evaluate_cpu"];
    mirrors ["ModelCheckParams", "Model"]);

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
    COPY,
    MODEL_CHECK,
];

/// The size and member offsets of a `#[repr(C)]` Rust mirror of a WGSL struct.
#[derive(Clone, Copy, Debug)]
pub struct UniformLayout {
    pub name: &'static str,
    pub size: usize,
    pub fields: &'static [(&'static str, usize)],
}

/// `uniform_layout!(StepParams { n, dim, ... })`: the layout of a mirror, written where
/// its (private) fields are visible. Padding fields are left out.
#[macro_export]
macro_rules! uniform_layout {
    ($t:ident { $($f:ident),* $(,)? }) => {
        $crate::gpu::registry::UniformLayout {
            name: stringify!($t),
            size: std::mem::size_of::<$t>(),
            fields: &[$((stringify!($f), std::mem::offset_of!($t, $f))),*],
        }
    };
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
                    "{name} is not part of any module in registry::ALL"
                );
            }
        }
    }
}
