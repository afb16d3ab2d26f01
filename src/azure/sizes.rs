//! VM sizes of the series Azure has retired, so that a spec naming one is told before a
//! deployment fails: retired sizes "are no longer available and can't be provisioned".
//!
//! Source: "Retired Azure VM size series",
//! https://learn.microsoft.com/azure/virtual-machines/sizes/retirement/retired-sizes-list
//! (ms.date 2025-06-13; NC, NCv2, ND and NV retired 2023-09-06, NCv3 and NC24rs_v3 2025-09-30,
//! NVv3 and NVv4 2026-09-30); the NCv3 retirement guide, which names `Standard_NC24ads_A100_v4`
//! as the replacement of `Standard_NC6s_v3`; and HDInsight's note that Basic and Standard
//! A-series (v1) VMs retired on 2024-08-31. Series only announced for retirement (Dv2, Dsv2 and
//! Av2 in 2028) can still be provisioned and are not listed.

/// Whether `size` is a GPU size: the N family (`Standard_NC…`, `ND…`, `NG…`, `NV…`), per
/// Microsoft Learn, "GPU-accelerated compute VM size series". Compared without regard to case.
pub fn is_gpu(size: &str) -> bool {
    let lower = size.to_ascii_lowercase();
    let series = lower.strip_prefix("standard_").unwrap_or(&lower);
    series.starts_with('n')
}

/// A retired VM series.
#[derive(Debug, PartialEq, Eq)]
pub struct RetiredSeries {
    pub series: &'static str,
    /// The date Azure retired it, ISO 8601.
    pub retired: &'static str,
    /// A current size to use instead.
    pub replacement: &'static str,
    sizes: &'static [&'static str],
}

const NC_REPLACEMENT: &str = "Standard_NC24ads_A100_v4 (or Standard_NC4as_T4_v3)";
const NV_REPLACEMENT: &str = "Standard_NV6ads_A10_v5";

const RETIRED: &[RetiredSeries] = &[
    RetiredSeries {
        series: "NC",
        retired: "2023-09-06",
        replacement: NC_REPLACEMENT,
        sizes: &["NC6", "NC12", "NC24", "NC24r"],
    },
    RetiredSeries {
        series: "NCv2",
        retired: "2023-09-06",
        replacement: NC_REPLACEMENT,
        sizes: &["NC6s_v2", "NC12s_v2", "NC24s_v2", "NC24rs_v2"],
    },
    RetiredSeries {
        series: "NCv3",
        retired: "2025-09-30",
        replacement: NC_REPLACEMENT,
        sizes: &["NC6s_v3", "NC12s_v3", "NC24s_v3", "NC24rs_v3"],
    },
    RetiredSeries {
        series: "ND",
        retired: "2023-09-06",
        replacement: NC_REPLACEMENT,
        sizes: &["ND6s", "ND12s", "ND24s", "ND24rs"],
    },
    RetiredSeries {
        series: "NV",
        retired: "2023-09-06",
        replacement: NV_REPLACEMENT,
        sizes: &["NV6", "NV12", "NV24"],
    },
    RetiredSeries {
        series: "NVv3",
        retired: "2026-09-30",
        replacement: NV_REPLACEMENT,
        sizes: &["NV12s_v3", "NV24s_v3", "NV48s_v3"],
    },
    RetiredSeries {
        series: "NVv4",
        retired: "2026-09-30",
        replacement: NV_REPLACEMENT,
        sizes: &["NV4as_v4", "NV8as_v4", "NV16as_v4", "NV32as_v4"],
    },
    RetiredSeries {
        series: "A (v1)",
        retired: "2024-08-31",
        replacement: "Standard_D2s_v5",
        sizes: &["A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7"],
    },
];

/// The retired series `size` (e.g. `Standard_NC6s_v3`, compared without regard to case) belongs
/// to, if any. `Basic_A0`..`Basic_A4` are A (v1) sizes too.
pub fn retired(size: &str) -> Option<&'static RetiredSeries> {
    let lower = size.to_lowercase();
    let name = lower
        .strip_prefix("standard_")
        .or_else(|| lower.strip_prefix("basic_"))?;
    RETIRED
        .iter()
        .find(|s| s.sizes.iter().any(|n| n.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_sizes_are_the_n_family() {
        for gpu in [
            "Standard_NC6s_v3",
            "standard_nd40rs_v2",
            "Standard_NV6ads_A10_v5",
            "NC24ads_A100_v4",
        ] {
            assert!(is_gpu(gpu), "{gpu}");
        }
        for cpu in [
            "Standard_D2s_v3",
            "Standard_DS3_v2",
            "Standard_E8_v3",
            "Standard_F4s_v2",
        ] {
            assert!(!is_gpu(cpu), "{cpu}");
        }
    }

    #[test]
    fn finds_retired_series_and_spares_current_ones() {
        assert_eq!(retired("Standard_NC6s_v3").unwrap().retired, "2025-09-30");
        assert_eq!(retired("STANDARD_nv6").unwrap().series, "NV");
        assert_eq!(retired("Basic_A2").unwrap().series, "A (v1)");
        for current in [
            "Standard_A2_v2",
            "Standard_DS3_v2",
            "Standard_NC4as_T4_v3",
            "Standard_NC24ads_A100_v4",
            "NC6",
        ] {
            assert_eq!(retired(current), None, "{current}");
        }
    }
}
