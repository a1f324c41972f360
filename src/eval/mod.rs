//! The numbers behind `lab eval`: a fixed feature space for images, nearest-neighbour ranks,
//! a Fréchet distance between two feature sets (FID-style) and diversity across seeds; the
//! scene prompts' detector is in [`detector`].
//!
//! Feature space: the 32×32 image averaged down to 8×8 RGB (each value the mean of a 4×4 block,
//! in [-1, 1]), 192 numbers. Colour layout is what the small model gets right or wrong first, it
//! needs no learned network (so nothing is downloaded), and the same features serve all three
//! measures.

pub mod detector;

pub const FEATURE_GRID: usize = 8;

/// C×S×S image in [-1, 1] → C×8×8 block means.
pub fn features(chw: &[f32], channels: usize, size: usize) -> Vec<f32> {
    let block = size / FEATURE_GRID;
    let mut out = vec![0.0f32; channels * FEATURE_GRID * FEATURE_GRID];
    for c in 0..channels {
        for y in 0..size {
            for x in 0..size {
                out[(c * FEATURE_GRID + y / block) * FEATURE_GRID + x / block] += chw[(c * size + y) * size + x];
            }
        }
    }
    let n = (block * block) as f32;
    out.iter_mut().for_each(|v| *v /= n);
    out
}

pub fn distance2(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum()
}

/// A group's (one emoji's images, one per style: Noto, Twemoji) distance to `query`: that of its
/// nearest image.
fn group_distance2(query: &[f32], group: &[Vec<f32>]) -> f64 {
    group.iter().map(|f| distance2(query, f)).fold(f64::INFINITY, f64::min)
}

/// Where `target` ranks among `groups` by distance to `query` (0 = nearest).
pub fn rank_of(query: &[f32], groups: &[Vec<Vec<f32>>], target: usize) -> usize {
    let d_target = group_distance2(query, &groups[target]);
    groups.iter().enumerate().filter(|&(i, g)| i != target && group_distance2(query, g) < d_target).count()
}

/// The group nearest to `query`.
pub fn nearest_group(query: &[f32], groups: &[Vec<Vec<f32>>]) -> usize {
    let distances = groups.iter().map(|g| group_distance2(query, g));
    distances.enumerate().min_by(|a, b| a.1.total_cmp(&b.1)).map_or(0, |(i, _)| i)
}

/// Mean pairwise Euclidean distance within a group (diversity across seeds).
pub fn mean_pairwise_distance(group: &[Vec<f32>]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0;
    for i in 0..group.len() {
        for j in i + 1..group.len() {
            sum += distance2(&group[i], &group[j]).sqrt();
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

fn mean_and_covariance(set: &[Vec<f32>]) -> (Vec<f64>, Vec<f64>) {
    let d = set[0].len();
    let n = set.len() as f64;
    let mut mean = vec![0.0; d];
    for f in set {
        for (m, &v) in mean.iter_mut().zip(f) {
            *m += v as f64 / n;
        }
    }
    let mut cov = vec![0.0; d * d];
    for f in set {
        for i in 0..d {
            let di = f[i] as f64 - mean[i];
            for j in i..d {
                cov[i * d + j] += di * (f[j] as f64 - mean[j]) / (n - 1.0).max(1.0);
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            cov[i * d + j] = cov[j * d + i];
        }
    }
    (mean, cov)
}

/// Eigenvalues and eigenvectors (columns of `v`) of a symmetric d×d matrix, cyclic Jacobi.
fn symmetric_eigen(mut a: Vec<f64>, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..d).flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * d + j].powi(2)).sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            for j in 0..d {
                out[i * d + j] += aik * b[k * d + j];
            }
        }
    }
    out
}

/// Fréchet distance between Gaussians fitted to two feature sets (the formula of FID):
/// |m1 - m2|² + tr(S1) + tr(S2) - 2 tr((S1^½ S2 S1^½)^½).
pub fn frechet_distance(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    let d = a[0].len();
    let (m1, s1) = mean_and_covariance(a);
    let (m2, s2) = mean_and_covariance(b);
    let (e1, v1) = symmetric_eigen(s1.clone(), d);
    // S1^½ = V diag(sqrt(max(e, 0))) Vᵀ
    let mut s1_half = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            s1_half[i * d + j] = (0..d).map(|k| v1[i * d + k] * e1[k].max(0.0).sqrt() * v1[j * d + k]).sum();
        }
    }
    let m = matmul(&matmul(&s1_half, &s2, d), &s1_half, d);
    let (em, _) = symmetric_eigen(m, d);
    let tr_sqrt: f64 = em.iter().map(|e| e.max(0.0).sqrt()).sum();
    let mean_term: f64 = m1.iter().zip(&m2).map(|(x, y)| (x - y).powi(2)).sum();
    let trace = |s: &[f64]| (0..d).map(|i| s[i * d + i]).sum::<f64>();
    (mean_term + trace(&s1) + trace(&s2) - 2.0 * tr_sqrt).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize, d: usize, seed: u64, shift: f32, scale: f32) -> Vec<Vec<f32>> {
        let mut rng = crate::rng::Rng::new(seed);
        (0..n).map(|_| rng.normal_vec(d).into_iter().map(|v| v * scale + shift).collect()).collect()
    }

    #[test]
    fn features_average_blocks() {
        let img: Vec<f32> = (0..3 * 32 * 32).map(|i| if (i % 32) < 4 { 1.0 } else { -1.0 }).collect();
        let f = features(&img, 3, 32);
        assert_eq!(f.len(), 192);
        assert_eq!((f[0], f[1], f[8]), (1.0, -1.0, 1.0));
    }

    #[test]
    fn frechet_distance_matches_the_closed_form() {
        // same distribution: near 0; shifted mean: |shift|² d; scaled: d (s1 - s2)² for isotropic
        let d = 6;
        let a = set(4000, d, 1, 0.0, 1.0);
        assert!(frechet_distance(&a, &a) < 1e-6);
        let shifted = set(4000, d, 2, 0.5, 1.0);
        let fd = frechet_distance(&a, &shifted);
        assert!((fd - 0.25 * d as f64).abs() < 0.15, "{fd}");
        let scaled = set(4000, d, 3, 0.0, 2.0);
        let fd = frechet_distance(&a, &scaled);
        assert!((fd - d as f64).abs() < 0.5, "{fd}");
    }

    #[test]
    fn ranks_and_diversity() {
        let s = vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![3.0, 0.0]];
        let groups: Vec<Vec<Vec<f32>>> = s.iter().map(|f| vec![f.clone()]).collect();
        assert_eq!(rank_of(&[0.9, 0.0], &groups, 1), 0);
        assert_eq!(rank_of(&[0.9, 0.0], &groups, 2), 2);
        // a group counts with its nearest image: a second style of emoji 2 at (0.8, 0) wins
        let mut two_styles = groups.clone();
        two_styles[2].push(vec![0.8, 0.0]);
        assert_eq!(rank_of(&[0.9, 0.0], &two_styles, 2), 0);
        assert_eq!(rank_of(&[0.9, 0.0], &two_styles, 1), 1);
        assert_eq!((nearest_group(&[0.9, 0.0], &groups), nearest_group(&[0.9, 0.0], &two_styles)), (1, 2));
        assert!((mean_pairwise_distance(&s) - 2.0).abs() < 1e-12);
    }
}
