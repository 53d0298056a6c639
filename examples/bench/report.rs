//! Peak memory and the printed report.

use crate::loops::Run;
use crate::synthetic::Workload;

/// The process's peak resident set (`VmHWM` of `/proc/self/status`) in MiB; 0 when unknown.
pub fn peak_rss_mb() -> f64 {
    status_mib("VmHWM:")
}

/// The process's resident set now (`VmRSS` of `/proc/self/status`) in MiB; 0 when unknown.
pub fn rss_mb() -> f64 {
    status_mib("VmRSS:")
}

/// The `kB` value of the line starting with `key` in `/proc/self/status`, in MiB; 0 when unknown.
fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak resident set to the current one (Linux `clear_refs` value 5), so that each
/// loop reports its own peak. Returns whether the kernel accepted it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU seconds the process has run so far, all threads together (the sum of the first field of
/// `/proc/self/task/*/schedstat`, in ns); 0 when unknown.
pub fn cpu_secs() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let ns: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e9
}

/// FLOPs per second of loop `label`, in GFLOP/s: `train_flops * samples_per_sec` (for the MLPs
/// 6 per weight and sample: forward 2, backward 4), a third of that for `predict` (the forward).
pub fn gflops(w: &Workload, label: &str, samples_per_sec: f64) -> f64 {
    let flops = if label == "predict" {
        w.train_flops() / 3
    } else {
        w.train_flops()
    };
    flops as f64 * samples_per_sec / 1e9
}

/// Prints one workload's table, its ratios and one CSV line per loop (`keras_peer.py`'s format).
pub fn print(w: &Workload, runs: &[Run], repeat: usize) {
    println!(
        "{} {} {:?} batch {} samples/epoch {} params {} ({} epochs, first excluded; median of {repeat})",
        w.id,
        w.name,
        w.dims,
        w.batch,
        w.samples,
        w.params(),
        runs.first().map_or(0, |r| r.epoch_secs.len())
    );
    println!(
        "  loop   samples/s   GFLOP/s  samples/CPU-s  peak RSS MiB  last-epoch loss  epoch seconds"
    );
    for r in runs {
        let sps = r.samples_per_sec();
        let secs: Vec<String> = r.epoch_secs.iter().map(|s| format!("{s:.3}")).collect();
        // `--paired` runs time each side's wall time only.
        let cpu = Some(r.median_cpu())
            .filter(|c| c.is_finite())
            .map_or_else(|| "-".to_string(), |c| format!("{c:.0}"));
        println!(
            "  {:<5} {:>10.0} {:>9.1} {:>14} {:>13.1} {:>16.5}  [{}]",
            r.label,
            sps,
            gflops(w, r.label, sps),
            cpu,
            r.peak_rss_mb,
            r.final_loss,
            secs.join(", ")
        );
    }
    for r in runs.iter().filter(|r| r.epoch_rss_mb.len() >= 2) {
        let rss = &r.epoch_rss_mb;
        println!(
            "  {} resident MiB after epoch 2: {:.1}, after the last: {:.1} (ratio {:.3})",
            r.label,
            rss[1],
            rss[rss.len() - 1],
            rss[rss.len() - 1] / rss[1]
        );
    }
    if repeat > 1 {
        for r in runs {
            let all: Vec<String> = r.rounds.iter().map(|s| format!("{s:.0}")).collect();
            println!("  {} rounds: {}", r.label, all.join(", "));
            if r.cpu_rounds.iter().all(|c| c.is_finite()) {
                let cpu: Vec<String> = r.cpu_rounds.iter().map(|s| format!("{s:.0}")).collect();
                println!("  {} rounds, samples/CPU-s: {}", r.label, cpu.join(", "));
            }
        }
    }
    let find = |label: &str| runs.iter().find(|r| r.label == label);
    for other in ["hand", "dfdx"] {
        if let (Some(fit), Some(o)) = (find("fit"), find(other)) {
            let cpu = fit.median_cpu() / o.median_cpu();
            let cpu = if cpu.is_finite() {
                format!(", {cpu:.3} (CPU time)")
            } else {
                String::new()
            };
            println!(
                "  fit / {other} = {:.3} (wall){cpu}",
                fit.samples_per_sec() / o.samples_per_sec(),
            );
            if repeat > 1 {
                // Rounds alternate the loops, so round i of each saw the same machine load.
                let mut paired: Vec<f64> = fit
                    .rounds
                    .iter()
                    .zip(&o.rounds)
                    .map(|(f, o)| f / o)
                    .collect();
                paired.sort_by(f64::total_cmp);
                println!(
                    "  fit / {other} per round, sorted: {} -> median {:.3}",
                    paired
                        .iter()
                        .map(|r| format!("{r:.3}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    paired[paired.len() / 2]
                );
            }
        }
    }
    for r in runs {
        println!(
            "keras-rs-{},{},{},{:.1},{:.1},{:.5}",
            r.label,
            w.name,
            w.batch,
            r.samples_per_sec(),
            r.peak_rss_mb,
            r.final_loss
        );
    }
}
