// f^γ as `Power::apply` computes it (CPU twin): multiplication for γ = 1..4, pow
// otherwise. Appended to modules whose uniform `p` has `power_kind` (Power::shader_kind)
// and `gamma`.
fn power(f: f32) -> f32 {
    switch p.power_kind {
        case 1u: { return f; }
        case 2u: { return f * f; }
        case 3u: { return f * f * f; }
        case 4u: { let f2 = f * f; return f2 * f2; }
        default: {
            if (f > 0.0) { return pow(f, p.gamma); }
            return 0.0;
        }
    }
}
