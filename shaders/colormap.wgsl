// Colour-map a 2D f32 field into RGBA8 pixels on the device, so that only the image is
// read back. CPU twin: `frames::render` (same scale, table entry, rounding and
// orientation: cell (ix, iy) with y up, each cell drawn as k × k pixels).

struct ColormapParams {
    n: u32,            // cells per side
    k: u32,            // pixels per cell along each axis
    width: u32,        // n × k
    log_scale: u32,
    lo: f32,           // linear: range [lo, hi]; log: log10 of it
    hi: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: ColormapParams;
@group(0) @binding(1) var<storage, read> field: array<f32>;
@group(0) @binding(2) var<storage, read_write> pixels: array<u32>;
// the colour map's 256 entries, r | g << 8 | b << 16 (twin: `frames::table`)
@group(0) @binding(3) var<storage, read> table: array<u32, 256>;

const INV_LN10: f32 = 0.43429448190325176;

// Position of v in the colour range, in [0, 1] (twin: `Scale::unit` then the clamp of
// `colour`; non-finite values map to 0).
fn unit(v: f32) -> f32 {
    if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) {
        return 0.0;
    }
    var s: f32;
    if (p.log_scale == 1u) {
        if (v <= 0.0) {
            return 0.0;
        }
        s = (log(v) * INV_LN10 - p.lo) / (p.hi - p.lo);
    } else {
        s = (v - p.lo) / (p.hi - p.lo);
    }
    return clamp(s, 0.0, 1.0);
}

// The nearest of the 256 entries (twin: `frames::entry`).
fn to_byte(x: f32) -> u32 {
    return min(u32(floor(255.0 * clamp(x, 0.0, 1.0) + 0.5)), 255u);
}

@compute @workgroup_size(16, 16, 1)
fn render(@builtin(global_invocation_id) gid: vec3<u32>) {
    let px = gid.x;
    let py = gid.y;
    if (px >= p.width || py >= p.width) {
        return;
    }
    let ix = px / p.k;
    let iy = p.n - 1u - py / p.k;
    pixels[py * p.width + px] = table[to_byte(unit(field[ix * p.n + iy]))] | (255u << 24u);
}
