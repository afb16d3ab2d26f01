//! The VM images amlgen deploys: the Ubuntu releases Azure ML can attach, by the name a spec uses.

/// A Marketplace image reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image {
    /// The spec's name for it, e.g. `ubuntu-22.04`.
    pub name: &'static str,
    pub publisher: &'static str,
    pub offer: &'static str,
    pub sku: &'static str,
}

/// The supported images: Canonical's Gen2 LTS server images.
pub const UBUNTU: &[Image] = &[
    Image {
        name: "ubuntu-22.04",
        publisher: "Canonical",
        offer: "0001-com-ubuntu-server-jammy",
        sku: "22_04-lts-gen2",
    },
    Image {
        name: "ubuntu-24.04",
        publisher: "Canonical",
        offer: "ubuntu-24_04-lts",
        sku: "server",
    },
];

/// The image a spec names, if amlgen supports it.
pub fn find(name: &str) -> Option<&'static Image> {
    UBUNTU.iter().find(|i| i.name == name)
}

/// The spec names of the supported images, for messages.
pub fn names() -> Vec<&'static str> {
    UBUNTU.iter().map(|i| i.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ubuntu_lts_images_are_known() {
        assert_eq!(
            find("ubuntu-24.04").map(|i| i.offer),
            Some("ubuntu-24_04-lts")
        );
        assert!(find("windows-2022").is_none());
        assert_eq!(names(), ["ubuntu-22.04", "ubuntu-24.04"]);
    }
}
