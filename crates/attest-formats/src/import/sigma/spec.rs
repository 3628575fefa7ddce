//! The Sigma `logsource` → ATT&CK telemetry mapping, as data (version [`MAPPING_VERSION`]).
//!
//! Two tables decide which dependencies an imported Sigma rule gets, each marked
//! [`attest_core::rule::DependencyOrigin::Inferred`]:
//!
//! - [`CATEGORIES`]: a `category` names a *kind* of telemetry (process creation, registry set…)
//!   that several log sources can provide (Sysmon, the Security log, any EDR). It becomes the ATT&CK
//!   **data component** only. The ATT&CK log sources that typically provide it are listed as
//!   documentation (`typical_log_sources`), not as dependencies: rule dependencies are
//!   conjunctive, so listing `WinEventLog:Sysmon EventCode=1` *and* `WinEventLog:Security
//!   EventCode=4688` for a `process_creation` rule would demand both logs when either suffices.
//! - [`SERVICES`]: a `service` names one specific log (`security` is the Windows Security event
//!   log). It becomes that ATT&CK **log source**; when the rule's detection names `EventID`s and
//!   the service has an event table, one log-source dependency per event (`EventCode=4688`) plus
//!   the data components of the events it knows.
//!
//! Component names are ATT&CK v18 data component names exactly (a test checks them against the
//! v18.1 bundle when `ATTEST_ATTACK_DIR` is set). Log-source names follow ATT&CK's own spelling
//! (`WinEventLog:Security`, `AWS:CloudTrail`, `azure:signinlogs`); Windows channels ATT&CK does not
//! list are spelled the same way, `WinEventLog:<channel>`.
//!
//! Bump [`MAPPING_VERSION`] whenever a row changes, so that the store can tell which inferred
//! dependencies came from which table.

/// Version of the mapping tables below. Version 1: first table, ATT&CK v18 component names.
pub const MAPPING_VERSION: u32 = 1;

/// A Sigma `category` (optionally restricted to one `product`) and the data components it means.
#[derive(Debug, Clone, Copy)]
pub struct CategoryMapping {
    /// The Sigma category, e.g. `process_creation`.
    pub category: &'static str,
    /// Restrict the row to this product (`windows`); `None` for any product.
    pub product: Option<&'static str>,
    /// ATT&CK v18 data component names.
    pub components: &'static [&'static str],
    /// ATT&CK log sources (`name` or `name:channel`) that usually provide it; documentation only.
    pub typical_log_sources: &'static [&'static str],
}

/// A Sigma `service` (of a `product`) and the ATT&CK log source it is.
#[derive(Debug, Clone, Copy)]
pub struct ServiceMapping {
    /// The Sigma product, e.g. `windows`; `None` for any product.
    pub product: Option<&'static str>,
    /// The Sigma service, e.g. `security`.
    pub service: &'static str,
    /// The ATT&CK log-source name, e.g. `WinEventLog:Security`.
    pub log_source: &'static str,
    /// Components the service provides when the rule names no known event.
    pub components: &'static [&'static str],
    /// Event id → components, for services whose rules select events by `EventID`.
    pub events: &'static [(u32, &'static [&'static str])],
}

const fn cat(
    category: &'static str,
    components: &'static [&'static str],
    typical_log_sources: &'static [&'static str],
) -> CategoryMapping {
    CategoryMapping {
        category,
        product: None,
        components,
        typical_log_sources,
    }
}

/// Sigma categories, from the Sigma taxonomy appendix (`sigma-specification`, log sources).
pub const CATEGORIES: &[CategoryMapping] = &[
    cat(
        "process_creation",
        &["Process Creation"],
        &[
            "WinEventLog:Sysmon:EventCode=1",
            "WinEventLog:Security:EventCode=4688",
            "auditd:SYSCALL:execve",
            "macos:endpointsecurity:ES_EVENT_TYPE_NOTIFY_EXEC",
        ],
    ),
    cat(
        "file_event",
        &["File Creation"],
        &["WinEventLog:Sysmon:EventCode=11"],
    ),
    cat(
        "file_change",
        &["File Modification"],
        &["WinEventLog:Sysmon:EventCode=2"],
    ),
    cat("file_rename", &["File Modification"], &[]),
    cat(
        "file_delete",
        &["File Deletion"],
        &["WinEventLog:Sysmon:EventCode=23"],
    ),
    cat(
        "file_access",
        &["File Access"],
        &["WinEventLog:Security:EventCode=4663"],
    ),
    cat(
        "file_executable_detected",
        &["File Creation"],
        &["WinEventLog:Sysmon:EventCode=29"],
    ),
    cat(
        "create_stream_hash",
        &["File Creation"],
        &["WinEventLog:Sysmon:EventCode=15"],
    ),
    cat(
        "registry_add",
        &["Windows Registry Key Creation"],
        &["WinEventLog:Sysmon:EventCode=12"],
    ),
    cat(
        "registry_delete",
        &["Windows Registry Key Deletion"],
        &["WinEventLog:Sysmon:EventCode=12"],
    ),
    cat(
        "registry_set",
        &["Windows Registry Key Modification"],
        &["WinEventLog:Sysmon:EventCode=13"],
    ),
    cat(
        "registry_rename",
        &["Windows Registry Key Modification"],
        &["WinEventLog:Sysmon:EventCode=14"],
    ),
    cat(
        "registry_event",
        &["Windows Registry Key Modification"],
        &[
            "WinEventLog:Sysmon:EventCode=12",
            "WinEventLog:Sysmon:EventCode=13",
            "WinEventLog:Sysmon:EventCode=14",
        ],
    ),
    cat(
        "image_load",
        &["Module Load"],
        &["WinEventLog:Sysmon:EventCode=7"],
    ),
    cat(
        "driver_load",
        &["Driver Load"],
        &["WinEventLog:Sysmon:EventCode=6"],
    ),
    cat(
        "network_connection",
        &["Network Connection Creation"],
        &[
            "WinEventLog:Sysmon:EventCode=3",
            "WinEventLog:Security:EventCode=5156",
        ],
    ),
    // ATT&CK v18 lists Sysmon event 22 (DNS query by a process) under Network Connection Creation.
    cat(
        "dns_query",
        &["Network Connection Creation"],
        &["WinEventLog:Sysmon:EventCode=22"],
    ),
    cat("dns", &["Network Traffic Content"], &[]),
    cat(
        "process_access",
        &["Process Access"],
        &["WinEventLog:Sysmon:EventCode=10"],
    ),
    // ATT&CK v18 lists Sysmon 8 under Process Modification and Sysmon 25 under Process Access.
    cat(
        "create_remote_thread",
        &["Process Modification"],
        &["WinEventLog:Sysmon:EventCode=8"],
    ),
    cat(
        "process_tampering",
        &["Process Access"],
        &["WinEventLog:Sysmon:EventCode=25"],
    ),
    cat(
        "raw_access_thread",
        &["Drive Access"],
        &["WinEventLog:Sysmon:EventCode=9"],
    ),
    cat(
        "pipe_created",
        &["Named Pipe Metadata"],
        &["WinEventLog:Sysmon:EventCode=17"],
    ),
    cat(
        "wmi_event",
        &["WMI Creation"],
        &["WinEventLog:Sysmon:EventCode=20"],
    ),
    cat(
        "ps_script",
        &["Script Execution"],
        &["WinEventLog:PowerShell:EventCode=4104"],
    ),
    cat(
        "ps_module",
        &["Command Execution"],
        &["WinEventLog:PowerShell:EventCode=4103"],
    ),
    cat(
        "ps_classic_start",
        &["Command Execution"],
        &["WinEventLog:Windows PowerShell:EventCode=400"],
    ),
    cat(
        "ps_classic_provider_start",
        &["Command Execution"],
        &["WinEventLog:Windows PowerShell:EventCode=600"],
    ),
    cat(
        "ps_classic_script",
        &["Command Execution"],
        &["WinEventLog:Windows PowerShell:EventCode=800"],
    ),
    cat(
        "sysmon_status",
        &["Host Status"],
        &["WinEventLog:Sysmon:EventCode=4"],
    ),
    cat(
        "sysmon_error",
        &["Host Status"],
        &["WinEventLog:Sysmon:EventCode=255"],
    ),
    cat("webserver", &["Application Log Content"], &[]),
    cat("application", &["Application Log Content"], &[]),
    cat("database", &["Application Log Content"], &[]),
    cat("appliance", &["Application Log Content"], &[]),
    cat("proxy", &["Network Traffic Content"], &[]),
    cat("firewall", &["Network Traffic Flow"], &[]),
    cat("authentication", &["User Account Authentication"], &[]),
];

const fn svc(
    product: &'static str,
    service: &'static str,
    log_source: &'static str,
    components: &'static [&'static str],
    events: &'static [(u32, &'static [&'static str])],
) -> ServiceMapping {
    ServiceMapping {
        product: Some(product),
        service,
        log_source,
        components,
        events,
    }
}

/// Windows Security log events (auditing) and what they record.
pub const SECURITY_EVENTS: &[(u32, &[&str])] = &[
    (4624, &["Logon Session Creation"]),
    (4625, &["User Account Authentication"]),
    (4634, &["Logon Session Metadata"]),
    (4647, &["Logon Session Metadata"]),
    (4648, &["Logon Session Creation"]),
    (4656, &["File Access"]),
    (4657, &["Windows Registry Key Modification"]),
    (4661, &["Active Directory Object Access"]),
    (4662, &["Active Directory Object Access"]),
    (4663, &["File Access"]),
    (4670, &["File Access"]),
    (4672, &["Logon Session Metadata"]),
    (4673, &["User Account Metadata"]),
    (4688, &["Process Creation"]),
    (4697, &["Service Creation"]),
    (4698, &["Scheduled Job Creation"]),
    (4699, &["Scheduled Job Modification"]),
    (4702, &["Scheduled Job Modification"]),
    (4720, &["User Account Creation"]),
    (4726, &["User Account Deletion"]),
    (4728, &["Group Modification"]),
    (4732, &["Group Modification"]),
    (4738, &["User Account Modification"]),
    (4741, &["Active Directory Object Creation"]),
    (4742, &["Active Directory Object Modification"]),
    (4756, &["Group Modification"]),
    (4768, &["Active Directory Credential Request"]),
    (4769, &["Active Directory Credential Request"]),
    (4771, &["User Account Authentication"]),
    (4776, &["User Account Authentication"]),
    (4778, &["Logon Session Metadata"]),
    (4779, &["Logon Session Metadata"]),
    (5136, &["Active Directory Object Modification"]),
    (5137, &["Active Directory Object Creation"]),
    (5141, &["Active Directory Object Deletion"]),
    (5140, &["Network Share Access"]),
    (5145, &["Network Share Access"]),
    (5156, &["Network Connection Creation"]),
    (5157, &["Network Connection Creation"]),
];

/// Windows System log events.
pub const SYSTEM_EVENTS: &[(u32, &[&str])] = &[
    (7036, &["Service Metadata"]),
    (7040, &["Service Modification"]),
    (7045, &["Service Creation"]),
];

/// Sysmon events read from the Sysmon log itself (`service: sysmon`).
pub const SYSMON_EVENTS: &[(u32, &[&str])] = &[
    (1, &["Process Creation"]),
    (2, &["File Modification"]),
    (3, &["Network Connection Creation"]),
    (4, &["Service Metadata"]),
    (5, &["Process Termination"]),
    (6, &["Driver Load"]),
    (7, &["Module Load"]),
    (8, &["Process Modification"]),
    (9, &["Drive Access"]),
    (10, &["Process Access"]),
    (11, &["File Creation"]),
    (12, &["Windows Registry Key Creation"]),
    (13, &["Windows Registry Key Modification"]),
    (14, &["Windows Registry Key Modification"]),
    (17, &["Named Pipe Metadata"]),
    (18, &["Named Pipe Metadata"]),
    (19, &["WMI Creation"]),
    (20, &["WMI Creation"]),
    (21, &["WMI Creation"]),
    (22, &["Network Connection Creation"]),
    (23, &["File Deletion"]),
    (25, &["Process Access"]),
    (26, &["File Deletion"]),
];

/// PowerShell Operational log events.
pub const POWERSHELL_EVENTS: &[(u32, &[&str])] = &[
    (4103, &["Command Execution"]),
    (4104, &["Script Execution"]),
];

/// Task Scheduler Operational log events.
pub const TASKSCHEDULER_EVENTS: &[(u32, &[&str])] = &[
    (106, &["Scheduled Job Creation"]),
    (140, &["Scheduled Job Modification"]),
    (141, &["Scheduled Job Modification"]),
];

/// Sigma services: one specific log each.
pub const SERVICES: &[ServiceMapping] = &[
    svc(
        "windows",
        "security",
        "WinEventLog:Security",
        &[],
        SECURITY_EVENTS,
    ),
    svc(
        "windows",
        "system",
        "WinEventLog:System",
        &[],
        SYSTEM_EVENTS,
    ),
    svc(
        "windows",
        "sysmon",
        "WinEventLog:Sysmon",
        &[],
        SYSMON_EVENTS,
    ),
    svc(
        "windows",
        "application",
        "WinEventLog:Application",
        &["Application Log Content"],
        &[],
    ),
    svc(
        "windows",
        "powershell",
        "WinEventLog:PowerShell",
        &["Script Execution"],
        POWERSHELL_EVENTS,
    ),
    svc(
        "windows",
        "powershell-classic",
        "WinEventLog:Windows PowerShell",
        &["Command Execution"],
        &[],
    ),
    svc(
        "windows",
        "taskscheduler",
        "WinEventLog:TaskScheduler",
        &[],
        TASKSCHEDULER_EVENTS,
    ),
    svc("windows", "wmi", "WinEventLog:WMI", &["WMI Creation"], &[]),
    svc(
        "windows",
        "firewall-as",
        "WinEventLog:Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
        &["Firewall Rule Modification"],
        &[],
    ),
    svc(
        "windows",
        "codeintegrity-operational",
        "WinEventLog:Microsoft-Windows-CodeIntegrity/Operational",
        &["Module Load"],
        &[],
    ),
    svc(
        "windows",
        "windefend",
        "WinEventLog:Microsoft-Windows-Windows Defender/Operational",
        &[],
        &[],
    ),
    svc(
        "windows",
        "bits-client",
        "WinEventLog:Microsoft-Windows-Bits-Client/Operational",
        &[],
        &[],
    ),
    svc("windows", "applocker", "WinEventLog:AppLocker", &[], &[]),
    svc(
        "windows",
        "dns-client",
        "WinEventLog:Microsoft-Windows-DNS-Client/Operational",
        &[],
        &[],
    ),
    svc(
        "windows",
        "iis-configuration",
        "WinEventLog:Microsoft-IIS-Configuration",
        &["Service Modification"],
        &[],
    ),
    svc(
        "windows",
        "smbclient-security",
        "WinEventLog:Microsoft-Windows-SMBClient/Security",
        &["Network Share Access"],
        &[],
    ),
    svc(
        "windows",
        "terminalservices-localsessionmanager",
        "WinEventLog:Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
        &["Logon Session Creation"],
        &[],
    ),
    svc(
        "windows",
        "ntlm",
        "WinEventLog:Microsoft-Windows-NTLM/Operational",
        &["User Account Authentication"],
        &[],
    ),
    svc(
        "windows",
        "msexchange-management",
        "WinEventLog:MSExchange Management",
        &["Command Execution"],
        &[],
    ),
    svc(
        "windows",
        "shell-core",
        "WinEventLog:Microsoft-Windows-Shell-Core",
        &[],
        &[],
    ),
    svc(
        "linux",
        "auth",
        "linux:auth",
        &["User Account Authentication"],
        &[],
    ),
    svc(
        "linux",
        "sshd",
        "linux:auth",
        &["User Account Authentication"],
        &[],
    ),
    svc("linux", "sudo", "linux:auth", &["Command Execution"], &[]),
    svc("linux", "syslog", "linux:syslog", &[], &[]),
    svc(
        "linux",
        "cron",
        "linux:cron",
        &["Scheduled Job Metadata"],
        &[],
    ),
    svc("aws", "cloudtrail", "AWS:CloudTrail", &[], &[]),
    svc("azure", "activitylogs", "azure:activity", &[], &[]),
    svc("azure", "auditlogs", "azure:audit", &[], &[]),
    svc(
        "azure",
        "signinlogs",
        "azure:signinlogs",
        &["User Account Authentication"],
        &[],
    ),
    svc("gcp", "gcp.audit", "gcp:audit", &[], &[]),
    svc(
        "gcp",
        "google_workspace.admin",
        "gcp:workspaceaudit",
        &[],
        &[],
    ),
    svc(
        "gcp",
        "google_workspace.login",
        "gcp:workspaceaudit",
        &["User Account Authentication"],
        &[],
    ),
    svc("okta", "okta", "saas:okta", &[], &[]),
    svc("m365", "audit", "m365:unified", &[], &[]),
    svc("m365", "exchange", "m365:exchange", &[], &[]),
    svc("github", "audit", "saas:github", &[], &[]),
    svc("kubernetes", "audit", "kubernetes:audit", &[], &[]),
];

/// Enterprise ATT&CK tactic short names, including those introduced after v18 (`stealth`,
/// `defense-impairment`), and the ICS and Mobile ones. A Sigma tactic tag outside this list is
/// kept but warned about.
pub const KNOWN_TACTICS: &[&str] = &[
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "stealth",
    "defense-impairment",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
    "evasion",
    "inhibit-response-function",
    "impair-process-control",
    "network-effects",
    "remote-service-effects",
];
