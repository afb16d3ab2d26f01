//! "Did you mean": the nearest known name to a misspelt or shortened one.
//!
//! Used wherever a user names something from a closed set: spec keys, regions, subnets.

/// The shortest word taken as the start of a longer name.
const MIN_PREFIX: usize = 3;

/// The candidate that differs from `word` only in case (`snet-a` for `SNET-A`); failing that, the
/// only candidate that `word` is the start of (`westeu` for `westeurope`, though `westus` is fewer
/// edits away); failing that, the candidate nearest to `word`, if it is near enough to be a typo
/// (at most one edit in three characters, and at least one edit allowed).
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let same_but_case = candidates
        .iter()
        .find(|c| c.to_lowercase() == word.to_lowercase());
    same_but_case
        .copied()
        .or_else(|| only_extension(word, &candidates))
        .or_else(|| {
            candidates
                .iter()
                .map(|candidate| (strsim::levenshtein(word, candidate), *candidate))
                .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
                .min()
                .map(|(_, candidate)| candidate)
        })
}

/// The one candidate that starts with `word` (at least [`MIN_PREFIX`] characters), if exactly
/// one does.
fn only_extension<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.chars().count() < MIN_PREFIX {
        return None;
    }
    let mut extensions = candidates.iter().filter(|c| c.starts_with(word));
    match (extensions.next(), extensions.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_ignores_distant_words() {
        assert_eq!(
            closest("eastus3", ["eastus", "eastus2", "westus3"]),
            Some("eastus")
        );
        assert_eq!(closest("zzzz", ["name"]), None);
    }

    #[test]
    fn a_shortened_name_finds_the_only_name_it_starts() {
        let regions = ["westeurope", "westus", "westus2", "eastus"];
        assert_eq!(closest("westeu", regions), Some("westeurope"));
        assert_eq!(closest("wes", regions), None, "three regions start with it");
        assert_eq!(closest("we", ["westeurope"]), None, "too short to tell");
    }

    #[test]
    fn a_name_in_other_case_finds_its_candidate() {
        assert_eq!(closest("SNET-A", ["snet-b", "snet-a"]), Some("snet-a"));
    }
}
