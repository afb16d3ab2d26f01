//! The Azure built-in roles a created workspace's setup assigns, by their fixed IDs.
//!
//! Source: Microsoft Learn, "Azure built-in roles" (the IDs); "Use Azure Machine Learning studio
//! in an Azure virtual network" (2025-03-04: the workspace identity needs Reader on the storage
//! account's private endpoints, for studio to reach data through them); "Disable shared key
//! access for your workspace's storage account" (2026-01-30: with identity-based system
//! datastores, people need Storage Blob Data Contributor and Storage File Data Privileged
//! Contributor on the storage account); "Manage access to Azure Machine Learning workspaces"
//! (AzureML Data Scientist: work in the workspace without managing it or its compute).

/// A built-in role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    pub name: &'static str,
    /// The role definition's GUID, the same in every subscription.
    pub id: &'static str,
}

pub const READER: Role = Role {
    name: "Reader",
    id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
};

pub const STORAGE_BLOB_DATA_CONTRIBUTOR: Role = Role {
    name: "Storage Blob Data Contributor",
    id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
};

pub const STORAGE_FILE_DATA_PRIVILEGED_CONTRIBUTOR: Role = Role {
    name: "Storage File Data Privileged Contributor",
    id: "69566ab7-960f-475b-8e7c-b3118f30c6bd",
};

pub const AZUREML_DATA_SCIENTIST: Role = Role {
    name: "AzureML Data Scientist",
    id: "f6c7c914-8db3-469d-8ca1-694a8f32e121",
};
