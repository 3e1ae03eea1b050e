//! Azure's public regions: the names a `location` input may use, and the nearest names
//! when it uses none of them.
//!
//! The table follows `az account list-locations` for the public cloud (physical regions,
//! the names ARM accepts as `location`). A region Azure adds later is accepted once the
//! subscription lists it: the provider reads `GET /subscriptions/{s}/locations` when a
//! `location` is not in the table ([`learn`]); without that read, Check refuses it with a
//! hint.

use super::naming::normalize_location;

/// (ARM name, display name) of every public Azure region.
pub const REGIONS: &[(&str, &str)] = &[
    ("australiacentral", "Australia Central"),
    ("australiacentral2", "Australia Central 2"),
    ("australiaeast", "Australia East"),
    ("australiasoutheast", "Australia Southeast"),
    ("austriaeast", "Austria East"),
    ("belgiumcentral", "Belgium Central"),
    ("brazilsouth", "Brazil South"),
    ("brazilsoutheast", "Brazil Southeast"),
    ("canadacentral", "Canada Central"),
    ("canadaeast", "Canada East"),
    ("centralindia", "Central India"),
    ("centralus", "Central US"),
    ("chilecentral", "Chile Central"),
    ("eastasia", "East Asia"),
    ("eastus", "East US"),
    ("eastus2", "East US 2"),
    ("francecentral", "France Central"),
    ("francesouth", "France South"),
    ("germanynorth", "Germany North"),
    ("germanywestcentral", "Germany West Central"),
    ("indonesiacentral", "Indonesia Central"),
    ("israelcentral", "Israel Central"),
    ("italynorth", "Italy North"),
    ("japaneast", "Japan East"),
    ("japanwest", "Japan West"),
    ("jioindiacentral", "Jio India Central"),
    ("jioindiawest", "Jio India West"),
    ("koreacentral", "Korea Central"),
    ("koreasouth", "Korea South"),
    ("malaysiawest", "Malaysia West"),
    ("mexicocentral", "Mexico Central"),
    ("newzealandnorth", "New Zealand North"),
    ("northcentralus", "North Central US"),
    ("northeurope", "North Europe"),
    ("norwayeast", "Norway East"),
    ("norwaywest", "Norway West"),
    ("polandcentral", "Poland Central"),
    ("qatarcentral", "Qatar Central"),
    ("southafricanorth", "South Africa North"),
    ("southafricawest", "South Africa West"),
    ("southcentralus", "South Central US"),
    ("southeastasia", "Southeast Asia"),
    ("southindia", "South India"),
    ("spaincentral", "Spain Central"),
    ("swedencentral", "Sweden Central"),
    ("swedensouth", "Sweden South"),
    ("switzerlandnorth", "Switzerland North"),
    ("switzerlandwest", "Switzerland West"),
    ("uaecentral", "UAE Central"),
    ("uaenorth", "UAE North"),
    ("uksouth", "UK South"),
    ("ukwest", "UK West"),
    ("westcentralus", "West Central US"),
    ("westeurope", "West Europe"),
    ("westindia", "West India"),
    ("westus", "West US"),
    ("westus2", "West US 2"),
    ("westus3", "West US 3"),
];

/// The region `location` names: its ARM name (`westus2`, any case) or its display name
/// (`West US 2`, any case, spaces as Azure writes them).
pub fn find(location: &str) -> Option<&'static str> {
    let l = location.trim();
    REGIONS
        .iter()
        .find(|(name, display)| l.eq_ignore_ascii_case(name) || l.eq_ignore_ascii_case(display))
        .map(|(name, _)| *name)
}

/// Regions the subscription listed that the table lacks (ARM name, display name).
static LEARNED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Teaches Check the regions a subscription lists (`GET /subscriptions/{s}/locations`).
pub fn learn(regions: impl IntoIterator<Item = (String, String)>) {
    let mut learned = LEARNED.lock().unwrap_or_else(|p| p.into_inner());
    for (name, display) in regions {
        if find(&name).is_none() && !learned.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            learned.push((name, display));
        }
    }
}

/// Whether `location` names a region: the table's, or one the subscription listed.
pub fn is_known(location: &str) -> bool {
    let l = location.trim();
    find(l).is_some()
        || LEARNED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(n, d)| l.eq_ignore_ascii_case(n) || l.eq_ignore_ascii_case(d))
}

/// Checks a region; an unknown one fails with the nearest names (or where to look them up).
pub fn check_location(location: &str) -> Result<(), String> {
    if is_known(location) {
        return Ok(());
    }
    let wanted = normalize_location(location);
    let mut near: Vec<(usize, &str)> = REGIONS
        .iter()
        .map(|(name, _)| (distance(&wanted, name), *name))
        .filter(|(d, name)| *d <= name.len().max(wanted.len()) / 3)
        .collect();
    near.sort();
    let hint = if near.is_empty() {
        "use an Azure region name such as \"westus2\" or \"West US 2\" (`az account list-locations -o table` lists them)".to_string()
    } else {
        let names: Vec<String> = near.iter().take(3).map(|(_, n)| format!("{n:?}")).collect();
        format!("did you mean {}?", names.join(" or "))
    };
    Err(format!("{location:?} is not an Azure region; {hint}"))
}

/// Levenshtein distance between two short ASCII-ish strings.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display_names_in_any_case() {
        for ok in [
            "westus2",
            "WestUS2",
            "West US 2",
            "west us 2",
            " westeurope ",
        ] {
            assert!(check_location(ok).is_ok(), "{ok}");
        }
        assert_eq!(find("West Europe"), Some("westeurope"));
        assert!(check_location("West  US 2").is_err());
    }

    #[test]
    fn a_region_the_subscription_lists_is_learned() {
        // A name no other test uses: what is learned stays for the process.
        assert!(check_location("Venus Learned").is_err());
        learn([("venuslearned".to_string(), "Venus Learned".to_string())]);
        assert!(check_location("venuslearned").is_ok());
        assert!(check_location("Venus Learned").is_ok());
        assert!(check_location("venuslearnedsouth").is_err());
    }

    #[test]
    fn an_unknown_region_gets_the_nearest_names_or_a_hint() {
        let e = check_location("westeurop").unwrap_err();
        assert!(
            e.contains("\"westeurop\"") && e.contains("did you mean \"westeurope\""),
            "{e}"
        );
        let e = check_location("marsnorth").unwrap_err();
        assert!(e.contains("\"marsnorth\" is not an Azure region"), "{e}");
        assert!(e.contains("westus2") || e.contains("did you mean"), "{e}");
        assert!(check_location("").is_err() && check_location("west/us").is_err());
    }

    #[test]
    fn the_table_is_sorted_lower_case_and_matches_its_display_names() {
        let names: Vec<&str> = REGIONS.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        for (name, display) in REGIONS {
            assert_eq!(normalize_location(display), *name);
        }
    }

    /// Every region the repository's tests, examples and tools use is in the table.
    #[test]
    fn every_region_the_repository_uses_is_known() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dirs = [
            "tests",
            "examples",
            "provider/tests",
            "tools",
            "emulator/src",
        ];
        let mut seen = 0;
        for d in dirs {
            for file in walk(&root.join(d)) {
                let Ok(text) = std::fs::read_to_string(&file) else {
                    continue;
                };
                for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
                    let w = word.to_ascii_lowercase();
                    let looks_like_region = REGIONS.iter().any(|(n, _)| *n == w)
                        || (w.len() > 6
                            && ["us", "us2", "us3", "europe", "asia"]
                                .iter()
                                .any(|s| w.ends_with(s))
                            && ["east", "west", "north", "south", "central"]
                                .iter()
                                .any(|p| w.starts_with(p)));
                    if looks_like_region {
                        seen += 1;
                        assert!(find(&w).is_some(), "{} uses region {w:?}", file.display());
                    }
                }
            }
        }
        assert!(
            seen > 10,
            "found only {seen} region names: is the walk broken?"
        );
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return out;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir()
                && !matches!(
                    name.as_str(),
                    "node_modules" | "__pycache__" | "venv" | ".venv"
                )
            {
                out.extend(walk(&p));
            } else if [".py", ".rs", ".yaml", ".json", ".sh"]
                .iter()
                .any(|x| name.ends_with(x))
            {
                out.push(p);
            }
        }
        out
    }
}
