//! `fpgen info`: version and available backends.

use anyhow::Result;

pub fn run() -> Result<()> {
    println!("fpgen {}", env!("CARGO_PKG_VERSION"));
    println!("backends:");
    println!("  cpu   available  ({} threads, f32 and f64)", rayon::current_num_threads());
    println!("  gpu   f32; both schemes, Euler and SSP-RK2, frames drawn on the device (`run --backend gpu|auto`);");
    println!("        log-score reverse and reverse particles (`generate`, `filter`); score samplers and");
    println!("        the backward Fokker–Planck solves (`sample`, `check-theory`)");
    let adapters = fpgen::gpu::context::list_adapters();
    if adapters.is_empty() {
        println!("GPU adapters: none found (a Vulkan driver such as mesa-vulkan-drivers provides lavapipe)");
    }
    // numbered as FPGEN_ADAPTER_INDEX and `sweep --gpus` count them: hardware first
    for (index, a) in adapters.iter().enumerate() {
        println!(
            "GPU adapter {index}: {} ({}, {}, driver {} {})",
            a.name, a.backend, a.device_type, a.driver, a.driver_info
        );
        println!(
                "  f64 shaders: {}  timestamps: {}  subgroups: {}  max_storage_buffer_binding_size: {}  max_buffer_size: {}  max workgroup x: {}  max invocations: {}",
                a.f64_shaders,
                a.timestamp_queries,
                a.subgroups,
                a.max_storage_buffer_binding_size,
                a.max_buffer_size,
                a.max_compute_workgroup_size_x,
                a.max_compute_invocations_per_workgroup
            );
    }
    Ok(())
}
