// Writes the generator's output for a range of ids, so that tests compare it with the
// CPU twin: for id = first + i, Philox of the counter (id, step, draw, word3) (word3 is 0
// for particles; the known-answer vectors need it) and the four normals of (id, step,
// draw).

struct CheckParams {
    key: vec2<u32>,
    first: u32,
    count: u32,
    step: u32,
    draw: u32,
    word3: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: CheckParams;
@group(0) @binding(1) var<storage, read_write> ints: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> normals: array<vec4<f32>>;

@compute @workgroup_size(64, 1, 1)
fn generate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * 65535u * 64u;
    if (i >= p.count) {
        return;
    }
    let id = p.first + i;
    ints[i] = philox4x32_10(vec4<u32>(id, p.step, p.draw, p.word3), p.key);
    normals[i] = normals4(p.key, id, p.step, p.draw);
}
