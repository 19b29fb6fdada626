// Colour-map a 2D f32 field into RGBA8 pixels on the device, so that only the image is
// read back. CPU twin: `frames::render` (same scale, colormap polynomial, rounding and
// orientation: cell (ix, iy) with y up, each cell drawn as k × k pixels).

struct ColormapParams {
    n: u32,            // cells per side
    k: u32,            // pixels per cell along each axis
    width: u32,        // n × k
    map: u32,          // 0 gray, 1 polynomial (coefficients below)
    log_scale: u32,
    _pad0: u32,
    lo: f32,           // linear: range [lo, hi]; log: log10 of it
    hi: f32,
    coeffs: array<vec4<f32>, 7>, // rgb coefficients of s^0 .. s^6
}

@group(0) @binding(0) var<uniform> p: ColormapParams;
@group(0) @binding(1) var<storage, read> field: array<f32>;
@group(0) @binding(2) var<storage, read_write> pixels: array<u32>;

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

// Round to the nearest byte, halves away from zero (as Rust's f64::round).
fn to_byte(x: f32) -> u32 {
    return u32(floor(255.0 * clamp(x, 0.0, 1.0) + 0.5));
}

fn colour(s: f32) -> vec3<u32> {
    if (p.map == 0u) {
        let g = to_byte(s);
        return vec3<u32>(g, g, g);
    }
    var acc = vec3<f32>(0.0);
    for (var i = 6; i >= 0; i = i - 1) {
        acc = acc * s + p.coeffs[i].xyz;
    }
    return vec3<u32>(to_byte(acc.x), to_byte(acc.y), to_byte(acc.z));
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
    let c = colour(unit(field[ix * p.n + iy]));
    pixels[py * p.width + px] = c.x | (c.y << 8u) | (c.z << 16u) | (255u << 24u);
}
