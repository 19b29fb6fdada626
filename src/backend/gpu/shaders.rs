//! WGSL sources, embedded at build time; each kernel has a CPU twin in `backend::cpu`.

/// One forward-Euler step of the upwind scheme (twin: `Upwind::update_rows`).
pub const FV_UPWIND: &str = include_str!("../../../shaders/fv_upwind.wgsl");

/// Diagnostics reductions (twin: `CpuBackend::diagnostics`).
pub const REDUCE: &str = include_str!("../../../shaders/reduce.wgsl");

/// Every shader, by file name (validated with naga in the tests).
pub const ALL: &[(&str, &str)] = &[("fv_upwind.wgsl", FV_UPWIND), ("reduce.wgsl", REDUCE)];

#[cfg(test)]
mod tests {
    /// Parse and validate every shader with naga: a broken shader fails here even
    /// where no GPU exists.
    #[test]
    fn every_shader_parses_and_validates() {
        for (name, source) in super::ALL {
            let module = naga::front::wgsl::parse_str(source)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
            let mut validator = naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::default(),
            );
            if let Err(e) = validator.validate(&module) {
                panic!("{name}: {}", e.emit_to_string(source));
            }
        }
    }

    /// Every .wgsl file in shaders/ is listed in ALL (so none escapes validation).
    #[test]
    fn all_shader_files_are_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".wgsl") {
                assert!(super::ALL.iter().any(|(n, _)| *n == name), "{name} is not in shaders::ALL");
            }
        }
    }
}
