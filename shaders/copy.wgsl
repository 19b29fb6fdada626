// A device-to-device copy in vec4<f32> (16 bytes per invocation): the bandwidth a kernel
// that reads and writes each byte once can reach on this adapter, which bench-suite
// compares the stencil kernels with. CPU twin: `gpu::copy::copy_twin` (a slice copy).

@group(0) @binding(0) var<storage, read> from_field: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> to_field: array<vec4<f32>>;

// Dispatched as a 2D grid of 256-wide workgroups (a dimension may not exceed 65535).
@compute @workgroup_size(256, 1, 1)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i < arrayLength(&to_field)) {
        to_field[i] = from_field[i];
    }
}
