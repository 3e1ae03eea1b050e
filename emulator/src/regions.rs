//! Azure's public regions: the one table behind ARM's location rules (a disk,
//! snapshot or resource group in a place that is not a region is refused) and behind
//! `GET /subscriptions/{sub}/locations` (Subscriptions_ListLocations).
//!
//! Names are ARM's (`westeurope`); a request may also use the display name with spaces
//! (`West Europe`), in any case, as ARM accepts. Only physical public regions are listed:
//! no logical geographies (`europe`), no canary or staging regions.

use crate::error::ArmError;
use crate::rules::normalize_location;
use serde_json::{json, Value};

/// One public region as Subscriptions_ListLocations describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    pub display_name: &'static str,
    /// `regionalDisplayName` is `({geography_group}) {display_name}`.
    pub geography_group: &'static str,
    pub geography: &'static str,
    pub physical_location: &'static str,
    /// The paired region's name, if it has one.
    pub paired: Option<&'static str>,
    /// `regionCategory`: `Recommended` or `Other`.
    pub recommended: bool,
}

const fn r(
    name: &'static str,
    display_name: &'static str,
    geography_group: &'static str,
    geography: &'static str,
    physical_location: &'static str,
    paired: Option<&'static str>,
    recommended: bool,
) -> Region {
    Region {
        name,
        display_name,
        geography_group,
        geography,
        physical_location,
        paired,
        recommended,
    }
}

const US: &str = "US";
const EU: &str = "Europe";
const AP: &str = "Asia Pacific";

/// Azure's public physical regions, in the order `az account list-locations` shows them.
pub const REGIONS: &[Region] = &[
    r(
        "eastus",
        "East US",
        US,
        "United States",
        "Virginia",
        Some("westus"),
        true,
    ),
    r(
        "eastus2",
        "East US 2",
        US,
        "United States",
        "Virginia",
        Some("centralus"),
        true,
    ),
    r(
        "southcentralus",
        "South Central US",
        US,
        "United States",
        "Texas",
        Some("northcentralus"),
        true,
    ),
    r(
        "westus2",
        "West US 2",
        US,
        "United States",
        "Washington",
        Some("westcentralus"),
        true,
    ),
    r(
        "westus3",
        "West US 3",
        US,
        "United States",
        "Phoenix",
        Some("eastus"),
        true,
    ),
    r(
        "australiaeast",
        "Australia East",
        AP,
        "Australia",
        "New South Wales",
        Some("australiasoutheast"),
        true,
    ),
    r(
        "southeastasia",
        "Southeast Asia",
        AP,
        "Asia Pacific",
        "Singapore",
        Some("eastasia"),
        true,
    ),
    r(
        "northeurope",
        "North Europe",
        EU,
        "Europe",
        "Ireland",
        Some("westeurope"),
        true,
    ),
    r(
        "swedencentral",
        "Sweden Central",
        EU,
        "Sweden",
        "Gävle",
        Some("swedensouth"),
        true,
    ),
    r(
        "uksouth",
        "UK South",
        EU,
        "United Kingdom",
        "London",
        Some("ukwest"),
        true,
    ),
    r(
        "westeurope",
        "West Europe",
        EU,
        "Europe",
        "Netherlands",
        Some("northeurope"),
        true,
    ),
    r(
        "centralus",
        "Central US",
        US,
        "United States",
        "Iowa",
        Some("eastus2"),
        true,
    ),
    r(
        "southafricanorth",
        "South Africa North",
        "Africa",
        "South Africa",
        "Johannesburg",
        Some("southafricawest"),
        true,
    ),
    r(
        "centralindia",
        "Central India",
        AP,
        "India",
        "Pune",
        Some("southindia"),
        true,
    ),
    r(
        "eastasia",
        "East Asia",
        AP,
        "Asia Pacific",
        "Hong Kong",
        Some("southeastasia"),
        true,
    ),
    r(
        "indonesiacentral",
        "Indonesia Central",
        AP,
        "Indonesia",
        "Jakarta",
        None,
        true,
    ),
    r(
        "japaneast",
        "Japan East",
        AP,
        "Japan",
        "Tokyo, Saitama",
        Some("japanwest"),
        true,
    ),
    r(
        "japanwest",
        "Japan West",
        AP,
        "Japan",
        "Osaka",
        Some("japaneast"),
        true,
    ),
    r(
        "koreacentral",
        "Korea Central",
        AP,
        "Korea",
        "Seoul",
        Some("koreasouth"),
        true,
    ),
    r(
        "malaysiawest",
        "Malaysia West",
        AP,
        "Malaysia",
        "Kuala Lumpur",
        None,
        true,
    ),
    r(
        "newzealandnorth",
        "New Zealand North",
        AP,
        "New Zealand",
        "Auckland",
        None,
        true,
    ),
    r(
        "canadacentral",
        "Canada Central",
        "Canada",
        "Canada",
        "Toronto",
        Some("canadaeast"),
        true,
    ),
    r(
        "austriaeast",
        "Austria East",
        EU,
        "Austria",
        "Vienna",
        None,
        true,
    ),
    r(
        "belgiumcentral",
        "Belgium Central",
        EU,
        "Belgium",
        "Brussels",
        None,
        true,
    ),
    r(
        "francecentral",
        "France Central",
        EU,
        "France",
        "Paris",
        Some("francesouth"),
        true,
    ),
    r(
        "germanywestcentral",
        "Germany West Central",
        EU,
        "Germany",
        "Frankfurt",
        Some("germanynorth"),
        true,
    ),
    r(
        "italynorth",
        "Italy North",
        EU,
        "Italy",
        "Milan",
        None,
        true,
    ),
    r(
        "norwayeast",
        "Norway East",
        EU,
        "Norway",
        "Norway",
        Some("norwaywest"),
        true,
    ),
    r(
        "polandcentral",
        "Poland Central",
        EU,
        "Poland",
        "Warsaw",
        None,
        true,
    ),
    r(
        "spaincentral",
        "Spain Central",
        EU,
        "Spain",
        "Madrid",
        None,
        true,
    ),
    r(
        "switzerlandnorth",
        "Switzerland North",
        EU,
        "Switzerland",
        "Zurich",
        Some("switzerlandwest"),
        true,
    ),
    r(
        "mexicocentral",
        "Mexico Central",
        "Mexico",
        "Mexico",
        "Querétaro State",
        None,
        true,
    ),
    r(
        "uaenorth",
        "UAE North",
        "Middle East",
        "UAE",
        "Dubai",
        Some("uaecentral"),
        true,
    ),
    r(
        "brazilsouth",
        "Brazil South",
        "South America",
        "Brazil",
        "Sao Paulo State",
        Some("southcentralus"),
        true,
    ),
    r(
        "chilecentral",
        "Chile Central",
        "South America",
        "Chile",
        "Santiago",
        None,
        true,
    ),
    r(
        "israelcentral",
        "Israel Central",
        "Middle East",
        "Israel",
        "Israel",
        None,
        true,
    ),
    r(
        "qatarcentral",
        "Qatar Central",
        "Middle East",
        "Qatar",
        "Doha",
        None,
        true,
    ),
    r(
        "northcentralus",
        "North Central US",
        US,
        "United States",
        "Illinois",
        Some("southcentralus"),
        false,
    ),
    r(
        "westus",
        "West US",
        US,
        "United States",
        "California",
        Some("eastus"),
        false,
    ),
    r(
        "jioindiawest",
        "Jio India West",
        AP,
        "India",
        "Jamnagar",
        Some("jioindiacentral"),
        false,
    ),
    r(
        "westcentralus",
        "West Central US",
        US,
        "United States",
        "Wyoming",
        Some("westus2"),
        false,
    ),
    r(
        "southafricawest",
        "South Africa West",
        "Africa",
        "South Africa",
        "Cape Town",
        Some("southafricanorth"),
        false,
    ),
    r(
        "australiacentral",
        "Australia Central",
        AP,
        "Australia",
        "Canberra",
        Some("australiacentral2"),
        false,
    ),
    r(
        "australiacentral2",
        "Australia Central 2",
        AP,
        "Australia",
        "Canberra",
        Some("australiacentral"),
        false,
    ),
    r(
        "australiasoutheast",
        "Australia Southeast",
        AP,
        "Australia",
        "Victoria",
        Some("australiaeast"),
        false,
    ),
    r(
        "jioindiacentral",
        "Jio India Central",
        AP,
        "India",
        "Nagpur",
        Some("jioindiawest"),
        false,
    ),
    r(
        "koreasouth",
        "Korea South",
        AP,
        "Korea",
        "Busan",
        Some("koreacentral"),
        false,
    ),
    r(
        "southindia",
        "South India",
        AP,
        "India",
        "Chennai",
        Some("centralindia"),
        false,
    ),
    r(
        "westindia",
        "West India",
        AP,
        "India",
        "Mumbai",
        Some("southindia"),
        false,
    ),
    r(
        "canadaeast",
        "Canada East",
        "Canada",
        "Canada",
        "Quebec",
        Some("canadacentral"),
        false,
    ),
    r(
        "francesouth",
        "France South",
        EU,
        "France",
        "Marseille",
        Some("francecentral"),
        false,
    ),
    r(
        "germanynorth",
        "Germany North",
        EU,
        "Germany",
        "Berlin",
        Some("germanywestcentral"),
        false,
    ),
    r(
        "norwaywest",
        "Norway West",
        EU,
        "Norway",
        "Norway",
        Some("norwayeast"),
        false,
    ),
    r(
        "switzerlandwest",
        "Switzerland West",
        EU,
        "Switzerland",
        "Geneva",
        Some("switzerlandnorth"),
        false,
    ),
    r(
        "ukwest",
        "UK West",
        EU,
        "United Kingdom",
        "Cardiff",
        Some("uksouth"),
        false,
    ),
    r(
        "uaecentral",
        "UAE Central",
        "Middle East",
        "UAE",
        "Abu Dhabi",
        Some("uaenorth"),
        false,
    ),
    r(
        "brazilsoutheast",
        "Brazil Southeast",
        "South America",
        "Brazil",
        "Rio",
        Some("brazilsouth"),
        false,
    ),
    r(
        "swedensouth",
        "Sweden South",
        EU,
        "Sweden",
        "Malmo",
        Some("swedencentral"),
        false,
    ),
];

/// The region `location` names (`westeurope`, `West Europe`, `WESTEUROPE`), if any.
pub fn find(location: &str) -> Option<&'static Region> {
    let wanted = normalize_location(location);
    REGIONS.iter().find(|r| r.name == wanted)
}

/// Every region name, comma-separated, as ARM lists them in its location errors.
fn names() -> String {
    REGIONS.iter().map(|r| r.name).collect::<Vec<_>>().join(",")
}

/// A disk or snapshot PUT's `location` must be a region: ARM's
/// 400 `LocationNotAvailableForResourceType` otherwise.
pub fn check_for_type(location: &str, resource_type: &str) -> Result<&'static Region, ArmError> {
    find(location).ok_or_else(|| {
        ArmError::bad_request(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{location}' is not available for resource type '{resource_type}'. \
                 List of available regions for the resource type is '{}'.",
                names()
            ),
        )
    })
}

/// A resource group's `location` must be a region: ARM's
/// 400 `LocationNotAvailableForResourceGroup` otherwise.
pub fn check_for_group(location: &str) -> Result<&'static Region, ArmError> {
    find(location).ok_or_else(|| {
        ArmError::bad_request(
            "LocationNotAvailableForResourceGroup",
            format!(
                "The provided location '{location}' is not available for resource group. \
                 List of available regions is '{}'.",
                names()
            ),
        )
    })
}

/// One entry of Subscriptions_ListLocations.
pub fn to_json(region: &Region, subscription: &str) -> Value {
    let paired: Vec<Value> = region
        .paired
        .iter()
        .map(|p| json!({"name": p, "id": format!("/subscriptions/{subscription}/locations/{p}")}))
        .collect();
    json!({
        "id": format!("/subscriptions/{subscription}/locations/{}", region.name),
        "name": region.name,
        "type": "Region",
        "displayName": region.display_name,
        "regionalDisplayName": format!("({}) {}", region.geography_group, region.display_name),
        "metadata": {
            "regionType": "Physical",
            "regionCategory": if region.recommended { "Recommended" } else { "Other" },
            "geography": region.geography,
            "geographyGroup": region.geography_group,
            "physicalLocation": region.physical_location,
            "pairedRegion": paired,
        },
    })
}

/// The body of `GET /subscriptions/{sub}/locations`.
pub fn list(subscription: &str) -> Value {
    json!({"value": REGIONS.iter().map(|r| to_json(r, subscription)).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display_names() {
        for ok in [
            "westeurope",
            "West Europe",
            "WESTEUROPE",
            "east us 2",
            "westus",
        ] {
            assert!(find(ok).is_some(), "{ok}");
        }
        for bad in ["marsnorth", "", "europe", "west-europe"] {
            assert!(find(bad).is_none(), "{bad}");
        }
        for region in REGIONS {
            assert_eq!(region.name, normalize_location(region.display_name));
            assert_eq!(region.name, region.name.to_ascii_lowercase());
            if let Some(p) = region.paired {
                assert!(find(p).is_some(), "{} pairs with unknown {p}", region.name);
            }
        }
        let mut names: Vec<_> = REGIONS.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGIONS.len());
    }

    #[test]
    fn errors_name_the_location_and_list_the_regions() {
        let err = check_for_type("marsnorth", "Microsoft.Compute/snapshots").unwrap_err();
        assert_eq!(err.code, "LocationNotAvailableForResourceType");
        assert!(err.message.starts_with(
            "The provided location 'marsnorth' is not available for resource type 'Microsoft.Compute/snapshots'. \
             List of available regions for the resource type is 'eastus,eastus2,"
        ));
        assert_eq!(
            check_for_group("moon").unwrap_err().code,
            "LocationNotAvailableForResourceGroup"
        );
    }
}
