//! L-BFGS: the optimiser that fits the classification heads (a smooth convex objective:
//! softmax cross-entropy plus an L2 penalty), small enough to own rather than depend on.

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises a smooth convex function with L-BFGS (10 correction pairs, backtracking Armijo line search).
/// Returns the parameters, the iterations run and the final value.
pub fn minimise(
    mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>),
    mut x: Vec<f64>,
    max_iterations: usize,
) -> (Vec<f64>, usize, f64) {
    const HISTORY: usize = 10;
    const GRAD_TOL: f64 = 1e-6;
    const REL_TOL: f64 = 1e-10;
    let (mut fx, mut g) = f(&x);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut iterations = 0;
    while iterations < max_iterations {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < GRAD_TOL {
            break;
        }
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push((a, rho));
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            // First step: a unit-length move, since the gradient's scale says nothing about the curvature.
            _ => 1.0 / dot(&g, &g).sqrt().max(1e-12),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut dir: Vec<f64> = q.into_iter().map(|v| -v).collect();
        let mut slope = dot(&g, &dir);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            dir = g.iter().map(|v| -v).collect();
            slope = dot(&g, &dir);
        }
        let mut step = 1.0;
        let (mut x_new, mut f_new, mut g_new);
        loop {
            x_new = x
                .iter()
                .zip(&dir)
                .map(|(xi, di)| xi + step * di)
                .collect::<Vec<_>>();
            (f_new, g_new) = f(&x_new);
            if f_new <= fx + 1e-4 * step * slope || step < 1e-10 {
                break;
            }
            step *= 0.5;
        }
        iterations += 1;
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let converged = (fx - f_new).abs() <= REL_TOL * fx.abs().max(1.0);
        // Keep only pairs with positive curvature so the inverse-Hessian estimate stays positive definite.
        if dot(&s, &y) > 1e-12 {
            if s_hist.len() == HISTORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
        }
        x = x_new;
        fx = f_new;
        g = g_new;
        if converged {
            break;
        }
    }
    (x, iterations, fx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_convex_quadratic() {
        // f(x) = (x0 - 3)^2 + 10 (x1 + 1)^2, minimum 0 at (3, -1).
        let f = |x: &[f64]| {
            let v = (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2);
            (v, vec![2.0 * (x[0] - 3.0), 20.0 * (x[1] + 1.0)])
        };
        let (x, iterations, value) = minimise(f, vec![0.0, 0.0], 100);
        assert!(
            (x[0] - 3.0).abs() < 1e-5 && (x[1] + 1.0).abs() < 1e-5,
            "{x:?}"
        );
        assert!(
            value < 1e-9 && iterations < 100,
            "{value} after {iterations}"
        );
    }

    #[test]
    fn stops_at_the_iteration_limit() {
        let f = |x: &[f64]| (x[0] * x[0], vec![2.0 * x[0]]);
        let (_, iterations, _) = minimise(f, vec![1e6], 1);
        assert_eq!(iterations, 1);
    }
}
