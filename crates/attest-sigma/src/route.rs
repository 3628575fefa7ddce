//! Log-source routing: which Windows events a rule's `logsource` was written for.
//!
//! The table below maps Sigma `logsource` values (product `windows` with a `category` or a
//! `service`) to Windows channels and event ids. It is transcribed from the Sigma project's own
//! mappings: the Sysmon categories follow pySigma's `sysmon` pipeline (category → Sysmon event id),
//! the service names follow pySigma's `windows` pipeline / the Sigma "windows services" logsource
//! appendix (service → channel), and the PowerShell categories follow the SigmaHQ logsource guides
//! (`ps_script` = 4104, `ps_module` = 4103, classic 400/600/800). Process creation is also fed by
//! Security 4688, as in the Sigma `windows-audit` pipeline.
//!
//! Routing is by bucket: each rule gets a key `(product, category, service)` after the fallback
//! below, and each Windows event is sent only to the buckets its channel and event id satisfy.
//!
//! **Fallback (documented choice):** a Windows rule whose category or service is not in the table
//! (for example `file_access`, an ETW-only source) drops that dimension and so sees every Windows
//! event. A rule without a product whose category is unknown (`webserver`, `proxy`) keeps it, and
//! so only sees events that cannot be routed (events without a `Channel`, such as flat SIEM
//! exports), which are sent to every bucket.

use crate::event::Event;

/// One row: events of `channels` (and, when not empty, only those `event_ids`) belong to the
/// Sigma `category` or `service` named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteEntry {
    /// The Sigma dimension this row defines.
    pub target: RouteTarget,
    /// Channels whose events qualify (compared case-insensitively).
    pub channels: &'static [&'static str],
    /// Event ids that qualify; empty means every event of those channels.
    pub event_ids: &'static [u32],
}

/// The Sigma `logsource` dimension a [`RouteEntry`] defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteTarget {
    /// `logsource.category`.
    Category(&'static str),
    /// `logsource.service`.
    Service(&'static str),
}

const SYSMON: &[&str] = &["Microsoft-Windows-Sysmon/Operational"];
const PS_OPERATIONAL: &[&str] = &[
    "Microsoft-Windows-PowerShell/Operational",
    "PowerShellCore/Operational",
];
const PS_CLASSIC: &[&str] = &["Windows PowerShell"];

const fn cat(
    name: &'static str,
    channels: &'static [&'static str],
    event_ids: &'static [u32],
) -> RouteEntry {
    RouteEntry {
        target: RouteTarget::Category(name),
        channels,
        event_ids,
    }
}

const fn svc(name: &'static str, channels: &'static [&'static str]) -> RouteEntry {
    RouteEntry {
        target: RouteTarget::Service(name),
        channels,
        event_ids: &[],
    }
}

/// The Windows routing table (product `windows`). See the module documentation for its sources.
pub const WINDOWS_ROUTES: &[RouteEntry] = &[
    // Sysmon categories, by event id.
    cat("process_creation", SYSMON, &[1]),
    cat("process_creation", &["Security"], &[4688]),
    cat("file_change", SYSMON, &[2]),
    cat("network_connection", SYSMON, &[3]),
    cat("sysmon_status", SYSMON, &[4, 16]),
    cat("process_termination", SYSMON, &[5]),
    cat("driver_load", SYSMON, &[6]),
    cat("image_load", SYSMON, &[7]),
    cat("create_remote_thread", SYSMON, &[8]),
    cat("raw_access_thread", SYSMON, &[9]),
    cat("process_access", SYSMON, &[10]),
    cat("file_event", SYSMON, &[11]),
    cat("registry_add", SYSMON, &[12]),
    cat("registry_delete", SYSMON, &[12]),
    cat("registry_set", SYSMON, &[13]),
    cat("registry_rename", SYSMON, &[14]),
    cat("registry_event", SYSMON, &[12, 13, 14]),
    cat("create_stream_hash", SYSMON, &[15]),
    cat("pipe_created", SYSMON, &[17, 18]),
    cat("wmi_event", SYSMON, &[19, 20, 21]),
    cat("dns_query", SYSMON, &[22]),
    cat("file_delete", SYSMON, &[23, 26]),
    cat("clipboard_capture", SYSMON, &[24]),
    cat("process_tampering", SYSMON, &[25]),
    cat("file_delete_detected", SYSMON, &[26]),
    cat("file_block_executable", SYSMON, &[27]),
    cat("file_block_shredding", SYSMON, &[28]),
    cat("file_executable_detected", SYSMON, &[29]),
    cat("sysmon_error", SYSMON, &[255]),
    // PowerShell categories.
    cat("ps_script", PS_OPERATIONAL, &[4104]),
    cat("ps_module", PS_OPERATIONAL, &[4103]),
    cat("ps_classic_start", PS_CLASSIC, &[400]),
    cat("ps_classic_provider_start", PS_CLASSIC, &[600]),
    cat("ps_classic_script", PS_CLASSIC, &[800]),
    // Services, by channel.
    svc("security", &["Security"]),
    svc("system", &["System"]),
    svc("application", &["Application"]),
    svc("sysmon", SYSMON),
    svc("powershell", PS_OPERATIONAL),
    svc("powershell-classic", PS_CLASSIC),
    svc(
        "taskscheduler",
        &["Microsoft-Windows-TaskScheduler/Operational"],
    ),
    svc("wmi", &["Microsoft-Windows-WMI-Activity/Operational"]),
    svc("dns-server", &["DNS Server"]),
    svc(
        "dns-server-analytic",
        &["Microsoft-Windows-DNS-Server/Analytical"],
    ),
    svc(
        "dns-client",
        &["Microsoft-Windows-DNS Client Events/Operational"],
    ),
    svc(
        "driver-framework",
        &["Microsoft-Windows-DriverFrameworks-UserMode/Operational"],
    ),
    svc("ntlm", &["Microsoft-Windows-NTLM/Operational"]),
    svc("dhcp", &["Microsoft-Windows-DHCP-Server/Operational"]),
    svc("msexchange-management", &["MSExchange Management"]),
    svc(
        "applocker",
        &[
            "Microsoft-Windows-AppLocker/MSI and Script",
            "Microsoft-Windows-AppLocker/EXE and DLL",
            "Microsoft-Windows-AppLocker/Packaged app-Deployment",
            "Microsoft-Windows-AppLocker/Packaged app-Execution",
        ],
    ),
    svc(
        "printservice-admin",
        &["Microsoft-Windows-PrintService/Admin"],
    ),
    svc(
        "printservice-operational",
        &["Microsoft-Windows-PrintService/Operational"],
    ),
    svc(
        "codeintegrity-operational",
        &["Microsoft-Windows-CodeIntegrity/Operational"],
    ),
    svc(
        "smbclient-security",
        &["Microsoft-Windows-SmbClient/Security"],
    ),
    svc(
        "smbclient-connectivity",
        &["Microsoft-Windows-SmbClient/Connectivity"],
    ),
    svc(
        "smbserver-connectivity",
        &["Microsoft-Windows-SMBServer/Connectivity"],
    ),
    svc(
        "firewall-as",
        &["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"],
    ),
    svc(
        "bits-client",
        &["Microsoft-Windows-Bits-Client/Operational"],
    ),
    svc(
        "security-mitigations",
        &[
            "Microsoft-Windows-Security-Mitigations/Kernel Mode",
            "Microsoft-Windows-Security-Mitigations/User Mode",
        ],
    ),
    svc(
        "diagnosis-scripted",
        &["Microsoft-Windows-Diagnosis-Scripted/Operational"],
    ),
    svc("shell-core", &["Microsoft-Windows-Shell-Core/Operational"]),
    svc("openssh", &["OpenSSH/Operational"]),
    svc("ldap", &["Microsoft-Windows-LDAP-Client/Debug"]),
    svc("ldap_debug", &["Microsoft-Windows-LDAP-Client/Debug"]),
    svc("lsa-server", &["Microsoft-Windows-LSA/Operational"]),
    svc(
        "appxpackaging-om",
        &["Microsoft-Windows-AppxPackaging/Operational"],
    ),
    svc(
        "appxdeployment-server",
        &["Microsoft-Windows-AppXDeploymentServer/Operational"],
    ),
    svc(
        "appmodel-runtime",
        &["Microsoft-Windows-AppModel-Runtime/Admin"],
    ),
    svc(
        "windefend",
        &["Microsoft-Windows-Windows Defender/Operational"],
    ),
    svc(
        "terminalservices-localsessionmanager",
        &["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"],
    ),
    svc(
        "microsoft-servicebus-client",
        &["Microsoft-ServiceBus-Client"],
    ),
    svc("capi2", &["Microsoft-Windows-CAPI2/Operational"]),
    svc(
        "certificateservicesclient-lifecycle-system",
        &["Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"],
    ),
    svc(
        "iis-configuration",
        &["Microsoft-IIS-Configuration/Operational"],
    ),
    svc(
        "hyper-v-worker",
        &["Microsoft-Windows-Hyper-V-Worker-Admin"],
    ),
    svc(
        "kernel-shimengine",
        &["Microsoft-Windows-Kernel-ShimEngine/Operational"],
    ),
    svc("ntfs", &["Microsoft-Windows-Ntfs/Operational"]),
    svc("vhdmp", &["Microsoft-Windows-VHDMP-Operational"]),
];

/// The product the table describes.
pub const WINDOWS: &str = "windows";

/// A rule's routing key, after the fallback described in the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct BucketKey {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

/// What routing decided for one rule, for the rule's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// The rule only meets events of the channels/event ids its logsource names.
    Routed,
    /// The rule's category or service is not in the table; it meets every event of its product.
    Fallback {
        /// The dimension that could not be routed, e.g. `category: file_access`.
        unrouted: String,
    },
    /// The rule is for another product (or an unknown one without a product); it only meets
    /// events that cannot be routed (events without a `Channel`).
    UnroutedOnly,
}

fn known_category(name: &str) -> bool {
    WINDOWS_ROUTES
        .iter()
        .any(|r| matches!(r.target, RouteTarget::Category(c) if c == name))
}

fn known_service(name: &str) -> bool {
    WINDOWS_ROUTES
        .iter()
        .any(|r| matches!(r.target, RouteTarget::Service(s) if s == name))
}

/// Computes a rule's bucket from its logsource (all values compared lowercase).
pub(crate) fn bucket_for(
    product: Option<&str>,
    category: Option<&str>,
    service: Option<&str>,
) -> (BucketKey, Routing) {
    let product = product.map(str::to_ascii_lowercase);
    let category = category.map(str::to_ascii_lowercase);
    let service = service.map(str::to_ascii_lowercase);
    let windowsish = matches!(product.as_deref(), Some(WINDOWS) | None);
    if !windowsish {
        let key = BucketKey {
            product,
            category,
            service,
        };
        return (key, Routing::UnroutedOnly);
    }
    let cat_known = category.as_deref().map(known_category);
    let svc_known = service.as_deref().map(known_service);
    if product.is_none() {
        // Without a product, only a category or service we know makes the rule a Windows rule.
        let any_unknown = cat_known == Some(false) || svc_known == Some(false);
        let none_known = cat_known != Some(true) && svc_known != Some(true);
        if any_unknown || none_known {
            let key = BucketKey {
                product,
                category,
                service,
            };
            return (key, Routing::UnroutedOnly);
        }
        let key = BucketKey {
            product,
            category,
            service,
        };
        return (key, Routing::Routed);
    }
    let mut unrouted = Vec::new();
    let category = match (category, cat_known) {
        (Some(c), Some(false)) => {
            unrouted.push(format!("category: {c}"));
            None
        }
        (c, _) => c,
    };
    let service = match (service, svc_known) {
        (Some(s), Some(false)) => {
            unrouted.push(format!("service: {s}"));
            None
        }
        (s, _) => s,
    };
    let key = BucketKey {
        product,
        category,
        service,
    };
    if unrouted.is_empty() {
        (key, Routing::Routed)
    } else {
        (
            key,
            Routing::Fallback {
                unrouted: unrouted.join(", "),
            },
        )
    }
}

/// The Sigma categories and services an event belongs to, or `None` when it cannot be routed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventRoute {
    /// Categories (e.g. `process_creation`).
    pub categories: Vec<&'static str>,
    /// Services (e.g. `sysmon`).
    pub services: Vec<&'static str>,
}

/// Routes one event by its `Channel` and `EventID`. `None` means the event has no channel, so it
/// cannot be routed and should meet every rule.
pub fn route_event(event: &Event) -> Option<EventRoute> {
    let channel = event.channel()?;
    let event_id = event.event_id();
    let mut route = EventRoute::default();
    for entry in WINDOWS_ROUTES {
        if !entry
            .channels
            .iter()
            .any(|c| c.eq_ignore_ascii_case(channel))
        {
            continue;
        }
        if !entry.event_ids.is_empty() && !event_id.is_some_and(|id| entry.event_ids.contains(&id))
        {
            continue;
        }
        match entry.target {
            RouteTarget::Category(c) => push_unique(&mut route.categories, c),
            RouteTarget::Service(s) => push_unique(&mut route.services, s),
        }
    }
    Some(route)
}

fn push_unique(list: &mut Vec<&'static str>, item: &'static str) {
    if !list.contains(&item) {
        list.push(item);
    }
}

impl EventRoute {
    /// Whether a (routed Windows) event with this route is meant for a rule bucket.
    pub(crate) fn accepts(&self, key: &BucketKey) -> bool {
        if !matches!(key.product.as_deref(), Some(WINDOWS) | None) {
            return false;
        }
        if key.product.is_none() && key.category.is_none() && key.service.is_none() {
            // A rule with no logsource at all: Sigma says it applies everywhere.
            return true;
        }
        let cat_ok = key
            .category
            .as_deref()
            .is_none_or(|c| self.categories.contains(&c));
        let svc_ok = key
            .service
            .as_deref()
            .is_none_or(|s| self.services.contains(&s));
        // A product-less rule must have been routed by a known dimension (see `bucket_for`).
        cat_ok && svc_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(v: serde_json::Value) -> Event {
        Event::from_json(v).unwrap_or_else(|| Event::new(serde_json::Map::new()))
    }

    #[test]
    fn sysmon_process_creation_routes_to_category_and_service() {
        let r = route_event(&ev(
            json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}),
        ));
        let r = r.unwrap_or_default();
        assert_eq!(r.categories, vec!["process_creation"]);
        assert_eq!(r.services, vec!["sysmon"]);
    }

    #[test]
    fn security_4688_is_process_creation() {
        let r =
            route_event(&ev(json!({"Channel": "Security", "EventID": "4688"}))).unwrap_or_default();
        assert_eq!(r.categories, vec!["process_creation"]);
        assert_eq!(r.services, vec!["security"]);
    }

    #[test]
    fn registry_set_is_also_registry_event() {
        let r = route_event(&ev(
            json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 13}),
        ))
        .unwrap_or_default();
        assert_eq!(r.categories, vec!["registry_set", "registry_event"]);
    }

    #[test]
    fn powershell_script_block() {
        let r = route_event(&ev(
            json!({"Channel": "Microsoft-Windows-PowerShell/Operational", "EventID": 4104}),
        ))
        .unwrap_or_default();
        assert_eq!(r.categories, vec!["ps_script"]);
        assert_eq!(r.services, vec!["powershell"]);
    }

    #[test]
    fn no_channel_is_unroutable() {
        assert_eq!(route_event(&ev(json!({"Image": "x"}))), None);
    }

    #[test]
    fn unknown_windows_category_falls_back_to_product() {
        let (key, routing) = bucket_for(Some("windows"), Some("file_access"), None);
        assert_eq!(key.category, None);
        assert_eq!(
            routing,
            Routing::Fallback {
                unrouted: "category: file_access".into()
            }
        );
        let r = route_event(&ev(json!({"Channel": "Whatever", "EventID": 7}))).unwrap_or_default();
        assert!(r.accepts(&key));
    }

    #[test]
    fn product_less_unknown_category_only_meets_unrouted_events() {
        let (key, routing) = bucket_for(None, Some("webserver"), None);
        assert_eq!(routing, Routing::UnroutedOnly);
        let r =
            route_event(&ev(json!({"Channel": "Security", "EventID": 4624}))).unwrap_or_default();
        assert!(!r.accepts(&key));
    }

    #[test]
    fn process_creation_rule_does_not_meet_file_events() {
        let (key, _) = bucket_for(Some("windows"), Some("process_creation"), None);
        let file = route_event(&ev(
            json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 11}),
        ))
        .unwrap_or_default();
        assert!(!file.accepts(&key));
        let linux = bucket_for(Some("linux"), Some("process_creation"), None).0;
        let proc = route_event(&ev(
            json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}),
        ))
        .unwrap_or_default();
        assert!(proc.accepts(&key));
        assert!(!proc.accepts(&linux));
    }
}
