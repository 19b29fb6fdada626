//! Tests of `model::equilibrium` (their own file: the module stays within 500 lines).
use super::*;

fn canonical(gamma: f64) -> ModelParams {
    ModelParams::bose(1.0, 1.0, gamma, 1.0)
}

#[test]
fn critical_mass_2d_matches_closed_form() {
    for gamma in [1.00001, 1.0001, 1.01, 1.1, 1.5, 2.0, 3.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e10, 1e15] {
        let got = critical_mass(&canonical(gamma), 2, None).unwrap();
        let exact = critical_mass_2d_closed_form(gamma);
        assert!((got - exact).abs() <= 1e-10 * exact, "gamma={gamma}: {got} vs {exact}");
    }
}

#[test]
fn mass_of_profile_2d_gamma_2_matches_closed_form() {
    // π(π − 2 arctan √(e^{2θ} − 1))
    for theta in [1e-6, 0.01, 0.3, 2.0] {
        let got = profile_mass(&canonical(2.0), 2, theta, None);
        let exact = PI * (PI - 2.0 * (2.0 * theta).exp_m1().sqrt().atan());
        assert!((got - exact).abs() <= 1e-11 * exact, "theta={theta}: {got} vs {exact}");
    }
}

#[test]
fn theta_inverts_the_mass() {
    let p = ModelParams::bose(2.0, 0.5, 3.0, 0.7);
    let mc = critical_mass(&p, 1, None).unwrap();
    for frac in [0.1, 0.5, 0.999] {
        let theta = theta_for_mass(&p, 1, frac * mc, None).unwrap();
        let back = profile_mass(&p, 1, theta, None);
        assert!((back - frac * mc).abs() < 1e-10 * mc, "{frac}: {back}");
    }
    assert!(theta_for_mass(&p, 1, 1.01 * mc, None).is_none());
}

#[test]
fn box_masses_are_smaller_and_converge_to_the_full_space() {
    for (dim, gamma) in [(1, 3.0), (2, 2.0), (1, 1e3), (2, 1e3)] {
        let p = canonical(gamma);
        let full = critical_mass(&p, dim, None).unwrap();
        let small = critical_mass(&p, dim, Some(2.0)).unwrap();
        let big = critical_mass(&p, dim, Some(12.0)).unwrap();
        assert!(small < big && big <= full * (1.0 + 1e-12));
        assert!((full - big) < 1e-10 * full, "dim={dim}: {big} vs {full}");
    }
    // 2D box mass against a brute-force midpoint sum over the square [-2, 2]²
    let p = canonical(2.0);
    let theta = 0.2;
    let n = 2000;
    let h = 4.0 / n as f64;
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            let (x, y) = (-2.0 + (i as f64 + 0.5) * h, -2.0 + (j as f64 + 0.5) * h);
            s += profile(&p, theta, x * x + y * y);
        }
    }
    let got = profile_mass(&p, 2, theta, Some(2.0));
    assert!((s * h * h - got).abs() < 1e-5 * got, "{} vs {got}", s * h * h);
}

/// 1D against a 40-digit evaluation of the same integral (mpmath), from γ near 2 to the
/// large-γ limit √(2π); and the range outside which M_c is refused.
#[test]
fn critical_mass_1d_holds_from_near_critical_to_large_gamma() {
    for (gamma, reference) in [
        (2.001, 4001.625981577635),
        (2.01, 401.6294250964582),
        (3.0, 5.872100154556979),
        (10.0, 2.754622252073398),
        (1000.0, 2.506835667283037),
        (1e6, 2.5066282811792645),
    ] {
        let got = critical_mass(&canonical(gamma), 1, None).unwrap();
        assert!((got - reference).abs() <= 1e-10 * reference, "gamma={gamma}: {got} vs {reference}");
    }
    assert!(
        check_certified_gamma(2.00001, 1).is_err() && critical_mass(&canonical(2.00001), 1, None).is_none()
    );
    assert!(check_certified_gamma(1e16, 2).is_err() && critical_mass(&canonical(1e16), 2, None).is_none());
    let r = critical_mass_report(&canonical(1e16), 2, None, None);
    assert!(r.finite && r.critical_mass.is_none() && r.note.contains("outside the range"), "{}", r.note);
}

#[test]
fn infinite_critical_mass_is_reported() {
    assert!(critical_mass(&canonical(2.0), 1, None).is_none());
    assert!(critical_mass(&canonical(1.0), 2, None).is_none());
    let r = critical_mass_report(&canonical(0.8), 2, Some(5.0), Some(3.0));
    assert!(!r.finite && r.critical_mass.is_none() && r.note.contains("infinite"));
    assert!(r.theta.is_some());
}

#[test]
fn scaling_to_physical_units() {
    let p = ModelParams::bose(2.0, 4.0, 2.0, 0.5);
    let mc = critical_mass(&p, 2, None).unwrap();
    assert!((mc - PI * PI / 2.0 * 0.25).abs() < 1e-10);
}

/// Fermions: the discrete steady state has the requested mass, stays below
/// saturation, and θ(M) on the box inverts the box mass.
#[test]
fn fermion_profiles_stay_below_saturation_and_match_their_mass() {
    let p = ModelParams { statistics: Statistics::Fermi, ..ModelParams::bose(1.0, 2.0, 2.0, 0.5) };
    let sat = p.saturation().unwrap();
    assert!(!has_critical_mass(&p, 2) && critical_mass(&p, 2, Some(4.0)).is_none());
    for mass in [0.05, 1.0, 3.0] {
        let grid = Grid::new(2, 41, 4.0).unwrap();
        let (theta, f) = grid_profile(&p, &grid, mass);
        let discrete = f.iter().sum::<f64>() * grid.cell_volume();
        assert!((discrete - mass).abs() < 1e-12 * mass, "mass {mass}: {discrete}");
        assert!(f.iter().all(|&v| v > 0.0 && v < sat), "mass {mass}");
        let continuous = theta_for_mass(&p, 2, profile_mass(&p, 2, theta, Some(4.0)), Some(4.0)).unwrap();
        assert!((continuous - theta).abs() < 1e-9 * (1.0 + theta.abs()), "{continuous} vs {theta}");
    }
    // a mass the saturated box cannot hold has no profile
    assert!(theta_for_mass(&p, 2, sat * 64.0, Some(4.0)).is_none());
    // the 1D mass on ℝ of the canonical profile at θ = 0: ∫ (e^{γx²/2} + 1)^{−1/γ} dx by
    // the trapezoidal rule (spectrally accurate for this smooth, decaying integrand)
    let h = 1e-3;
    let trapezoid: f64 = (-20_000..=20_000)
        .map(|i| canonical_fermi_profile_at(0.5 * (i as f64 * h).powi(2), 0.0, 2.0) * h)
        .sum();
    assert!((canonical_fermi_mass(0.0, 1, 2.0, None) - trapezoid).abs() < 1e-12);
}
