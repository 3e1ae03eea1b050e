//! The demo's starting world: a resource group (default `datasets-rg` in `westus`) and
//! a "dataset" managed disk in it (default `dataset-disk`, 64 GB), written straight
//! into the [`World`] by `serve --seed`, `seed --state FILE` or `POST /_emulator/seed`.

use crate::arm::compute::validate::not_allowed;
use crate::arm::id::ResourceId;
use crate::config::Config;
use crate::error::ArmResult;
use crate::regions;
use crate::resource::{ComputeBody, CreationData, Properties, Resource, Sku};
use crate::rules::{
    canonical_sku, check_disk_size, check_resource_group_name, check_resource_name, DISK_SKUS,
};
use crate::time::now_ms;
use crate::world::{Key, Kind, ResourceGroup, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSpec {
    #[serde(default = "default_group")]
    pub resource_group: String,
    #[serde(default = "default_location")]
    pub location: String,
    #[serde(default = "default_disks")]
    pub disks: Vec<SeedDisk>,
    #[serde(default)]
    pub tags: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedDisk {
    pub name: String,
    #[serde(default = "default_size")]
    pub size_gb: u64,
    #[serde(default = "default_sku")]
    pub sku: String,
}

fn default_group() -> String {
    "datasets-rg".into()
}
fn default_location() -> String {
    "westus".into()
}
fn default_size() -> u64 {
    64
}
fn default_sku() -> String {
    "Standard_LRS".into()
}
fn default_disks() -> Vec<SeedDisk> {
    vec![SeedDisk {
        name: "dataset-disk".into(),
        size_gb: default_size(),
        sku: default_sku(),
    }]
}

impl Default for SeedSpec {
    fn default() -> Self {
        SeedSpec {
            resource_group: default_group(),
            location: default_location(),
            disks: default_disks(),
            tags: None,
        }
    }
}

impl SeedSpec {
    /// The rules a PUT of the same group and disks would meet: names, an Azure region,
    /// a known disk SKU and a size it allows.
    pub fn check(&self) -> ArmResult<()> {
        check_resource_group_name(&self.resource_group)?;
        regions::check_for_group(&self.location)?;
        for disk in &self.disks {
            check_resource_name("disk", &disk.name)?;
            let sku = canonical_sku(DISK_SKUS, &disk.sku)
                .ok_or_else(|| not_allowed("sku.name", &disk.sku, " for disks", DISK_SKUS))?;
            check_disk_size(&disk.name, sku, disk.size_gb)?;
        }
        Ok(())
    }

    /// Create the group and disks that do not exist yet (existing ones are left alone).
    pub fn apply(&self, world: &mut World, config: &Config) {
        let now = now_ms();
        let lower = self.resource_group.to_ascii_lowercase();
        world
            .resource_groups
            .entry(lower)
            .or_insert_with(|| ResourceGroup {
                name: self.resource_group.clone(),
                location: self.location.clone(),
                tags: self.tags.clone(),
                deleting: false,
            });
        for disk in &self.disks {
            let key = Key::new(Kind::Disk, &self.resource_group, &disk.name);
            if world.resources.contains_key(&key) {
                continue;
            }
            let id = ResourceId::new(
                &config.subscription_id,
                &self.resource_group,
                Kind::Disk,
                &disk.name,
            );
            let extra = json!({"osType": "Linux"})
                .as_object()
                .cloned()
                .unwrap_or_default();
            let mut props = Properties::new(
                CreationData::from_request(Map::new(), "Empty"),
                disk.size_gb,
                now,
                extra,
            );
            props.provisioning_state = "Succeeded".into();
            let mut body = ComputeBody::new(id, &self.location, Sku::named(&disk.sku), props);
            body.tags = Some([("purpose".to_string(), "dataset".to_string())].into());
            world.resources.insert(key, Resource::new(body, now));
        }
        world.dirty = true;
    }
}
