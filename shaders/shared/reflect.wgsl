
// Reflecting walls at ±l (twin: particles::reflect): one mirror image, then a clamp for
// steps longer than the box.
fn reflect_box(x: f32, l: f32) -> f32 {
    var y = x;
    if (x > l) {
        y = 2.0 * l - x;
    } else if (x < -l) {
        y = -2.0 * l - x;
    }
    return clamp(y, -l, l);
}
