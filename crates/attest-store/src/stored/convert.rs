//! Hand-written conversions between the `attest_core` domain and the stored v1 mirrors.
//!
//! Writing them by hand (instead of deriving serde on the domain) is what lets the domain change
//! without silently changing what is on disk: a new core field fails to compile here until
//! someone decides how it is stored.

use attest_core as core;
use attest_core::rule::RuleId;

use super::v1;

/// Converts a core event to its stored form; `None` for an event kind this store version does
/// not know how to store (the core enum is `#[non_exhaustive]`).
pub fn event_to_v1(event: &core::journal::Event) -> Option<v1::Event> {
    use core::journal::Event as E;
    Some(match event {
        E::AttackReleasesSet(r) => v1::Event::AttackReleasesSet(r.iter().map(release).collect()),
        E::SourceUpserted(s) => v1::Event::SourceUpserted(source_to_v1(s)),
        E::SourceRemoved { name } => v1::Event::SourceRemoved { name: name.clone() },
        E::SourceSeen { name, at } => v1::Event::SourceSeen {
            name: name.clone(),
            at: *at,
        },
        E::RuleUpserted(r) => v1::Event::RuleUpserted(rule_to_v1(r)),
        E::RuleRetired { id } => v1::Event::RuleRetired { id: id.0.clone() },
        E::RuleStatusChanged { id, status } => v1::Event::RuleStatusChanged {
            id: id.0.clone(),
            status: status_to_v1(*status),
        },
        E::RuleOwnerAssigned { id, owner } => v1::Event::RuleOwnerAssigned {
            id: id.0.clone(),
            owner: owner.clone(),
        },
        E::RuleTuned { id, tuning } => v1::Event::RuleTuned {
            id: id.0.clone(),
            tuning: tuning_to_v1(tuning),
        },
        E::TestUpserted(t) => v1::Event::TestUpserted(test_to_v1(t)),
        E::ResultRecorded(r) => v1::Event::ResultRecorded(result_to_v1(r)),
        E::PolicySet(p) => v1::Event::PolicySet(policy_to_v1(p)),
        E::ActorUpserted(a) => v1::Event::ActorUpserted(actor_to_v1(a)),
        E::ProfileUpserted(p) => v1::Event::ProfileUpserted(profile_to_v1(p)),
        E::ProfileRemoved { name } => v1::Event::ProfileRemoved { name: name.clone() },
        E::ExposureObserved(e) => v1::Event::ExposureObserved(exposure_to_v1(e)),
        E::ExposureClosed { key, reason } => v1::Event::ExposureClosed {
            asset: key.asset.clone(),
            finding: key.finding.clone(),
            reason: match reason {
                core::exposure::CloseReason::Fixed => v1::CloseReason::Fixed,
                core::exposure::CloseReason::Absent => v1::CloseReason::Absent,
            },
        },
        E::ExposureMappingsLoaded(m) => v1::Event::ExposureMappingsLoaded(mappings_to_v1(m)),
        E::JobRan(run) => v1::Event::JobRan(job_run_to_v1(run)),
        E::RemapTableSet(table) => v1::Event::RemapTableSet(remap_to_v1(table)),
        E::TokenIssued { name, role, id } => v1::Event::TokenIssued {
            name: name.clone(),
            role: role.clone(),
            id: id.clone(),
        },
        E::SettingChanged { key, value } => v1::Event::SettingChanged {
            key: key.clone(),
            value: value.clone(),
        },
        E::TokenRevoked { name, id } => v1::Event::TokenRevoked {
            name: name.clone(),
            id: id.clone(),
        },
        _ => return None,
    })
}

/// Converts a stored v1 event to the core event.
pub fn event_from_v1(event: v1::Event) -> core::journal::Event {
    use core::journal::Event as E;
    match event {
        v1::Event::AttackReleasesSet(r) => E::AttackReleasesSet(
            r.into_iter()
                .map(|r| core::journal::AttackRelease {
                    domain: r.domain,
                    version: r.version,
                    location: r.location,
                })
                .collect(),
        ),
        v1::Event::SourceUpserted(s) => E::SourceUpserted(source_from_v1(s)),
        v1::Event::SourceRemoved { name } => E::SourceRemoved { name },
        v1::Event::SourceSeen { name, at } => E::SourceSeen { name, at },
        v1::Event::RuleUpserted(r) => E::RuleUpserted(rule_from_v1(r)),
        v1::Event::RuleRetired { id } => E::RuleRetired { id: RuleId(id) },
        v1::Event::RuleStatusChanged { id, status } => E::RuleStatusChanged {
            id: RuleId(id),
            status: status_from_v1(status),
        },
        v1::Event::RuleOwnerAssigned { id, owner } => E::RuleOwnerAssigned {
            id: RuleId(id),
            owner,
        },
        v1::Event::RuleTuned { id, tuning } => E::RuleTuned {
            id: RuleId(id),
            tuning: tuning_from_v1(tuning),
        },
        v1::Event::TestUpserted(t) => E::TestUpserted(test_from_v1(t)),
        v1::Event::ResultRecorded(r) => E::ResultRecorded(result_from_v1(r)),
        v1::Event::PolicySet(p) => E::PolicySet(policy_from_v1(p)),
        v1::Event::ActorUpserted(a) => E::ActorUpserted(actor_from_v1(a)),
        v1::Event::ProfileUpserted(p) => E::ProfileUpserted(profile_from_v1(p)),
        v1::Event::ProfileRemoved { name } => E::ProfileRemoved { name },
        v1::Event::ExposureObserved(e) => E::ExposureObserved(exposure_from_v1(e)),
        v1::Event::ExposureClosed {
            asset,
            finding,
            reason,
        } => E::ExposureClosed {
            key: core::exposure::ExposureKey::new(asset, &finding),
            reason: match reason {
                v1::CloseReason::Fixed => core::exposure::CloseReason::Fixed,
                v1::CloseReason::Absent => core::exposure::CloseReason::Absent,
            },
        },
        v1::Event::ExposureMappingsLoaded(m) => E::ExposureMappingsLoaded(mappings_from_v1(m)),
        v1::Event::JobRan(run) => E::JobRan(job_run_from_v1(run)),
        v1::Event::RemapTableSet(entries) => E::RemapTableSet(remap_from_v1(entries)),
        v1::Event::TokenIssued { name, role, id } => E::TokenIssued { name, role, id },
        v1::Event::TokenRevoked { name, id } => E::TokenRevoked { name, id },
        v1::Event::SettingChanged { key, value } => E::SettingChanged { key, value },
    }
}

fn severity_label_to_v1(l: core::exposure::SeverityLabel) -> v1::SeverityLabel {
    use core::exposure::SeverityLabel as L;
    match l {
        L::None => v1::SeverityLabel::None,
        L::Low => v1::SeverityLabel::Low,
        L::Medium => v1::SeverityLabel::Medium,
        L::High => v1::SeverityLabel::High,
        L::Critical => v1::SeverityLabel::Critical,
    }
}

fn severity_label_from_v1(l: v1::SeverityLabel) -> core::exposure::SeverityLabel {
    use core::exposure::SeverityLabel as L;
    match l {
        v1::SeverityLabel::None => L::None,
        v1::SeverityLabel::Low => L::Low,
        v1::SeverityLabel::Medium => L::Medium,
        v1::SeverityLabel::High => L::High,
        v1::SeverityLabel::Critical => L::Critical,
    }
}

/// Stored form of an exposure.
pub fn exposure_to_v1(e: &core::exposure::Exposure) -> v1::Exposure {
    use core::exposure::{ExposureStatus as S, Severity};
    v1::Exposure {
        asset: e.asset.clone(),
        finding: e.finding.clone(),
        title: e.title.clone(),
        severity: match e.severity {
            Severity::Cvss(n) => v1::Severity::Cvss(n),
            Severity::Label(l) => v1::Severity::Label(severity_label_to_v1(l)),
        },
        first_seen: e.first_seen,
        last_seen: e.last_seen,
        status: match e.status {
            S::Open => v1::ExposureStatus::Open,
            S::Fixed => v1::ExposureStatus::Fixed,
            S::Accepted => v1::ExposureStatus::Accepted,
        },
        techniques: e.techniques.clone(),
        feed: e.feed.clone(),
    }
}

/// Core form of an exposure.
pub fn exposure_from_v1(e: v1::Exposure) -> core::exposure::Exposure {
    use core::exposure::{ExposureStatus as S, Severity};
    core::exposure::Exposure {
        asset: e.asset,
        finding: core::exposure::normalise_finding(&e.finding),
        title: e.title,
        severity: match e.severity {
            v1::Severity::Cvss(n) => Severity::Cvss(n),
            v1::Severity::Label(l) => Severity::Label(severity_label_from_v1(l)),
        },
        first_seen: e.first_seen,
        last_seen: e.last_seen,
        status: match e.status {
            v1::ExposureStatus::Open => S::Open,
            v1::ExposureStatus::Fixed => S::Fixed,
            v1::ExposureStatus::Accepted => S::Accepted,
        },
        techniques: e.techniques,
        feed: e.feed,
    }
}

/// Stored form of a mapping set.
pub fn mappings_to_v1(m: &core::exposure::MappingSet) -> v1::MappingSet {
    v1::MappingSet {
        name: m.name.clone(),
        kind: match m.kind {
            core::exposure::MappingKind::Cve => v1::MappingKind::Cve,
            core::exposure::MappingKind::Misconfiguration => v1::MappingKind::Misconfiguration,
        },
        attack_version: m.attack_version.clone(),
        remap: m.remap.clone(),
        mappings: m
            .mappings
            .iter()
            .map(|r| v1::FindingMapping {
                finding: r.finding.clone(),
                technique: r.technique.clone(),
                mapping_type: r.mapping_type.as_str().to_string(),
            })
            .collect(),
    }
}

/// Core form of a mapping set.
pub fn mappings_from_v1(m: v1::MappingSet) -> core::exposure::MappingSet {
    core::exposure::MappingSet {
        name: m.name,
        kind: match m.kind {
            v1::MappingKind::Cve => core::exposure::MappingKind::Cve,
            v1::MappingKind::Misconfiguration => core::exposure::MappingKind::Misconfiguration,
        },
        attack_version: m.attack_version,
        remap: m.remap,
        mappings: m
            .mappings
            .into_iter()
            .map(|r| core::exposure::FindingMapping {
                finding: r.finding,
                technique: r.technique,
                mapping_type: core::exposure::MappingType::parse(&r.mapping_type),
            })
            .collect(),
    }
}

/// A remap table in its stored form, sorted by old id.
pub fn remap_to_v1(table: &attest_attack::RemapTable) -> Vec<v1::RemapEntry> {
    table
        .iter()
        .map(|(old, new)| v1::RemapEntry {
            old: old.to_string(),
            new: new.to_string(),
        })
        .collect()
}

/// A remap table from its stored form. Ids were valid when written; one that no longer parses
/// is dropped rather than refusing to load the journal.
pub fn remap_from_v1(entries: Vec<v1::RemapEntry>) -> attest_attack::RemapTable {
    let mut table = attest_attack::RemapTable::new();
    for e in entries {
        if let (Ok(old), Ok(new)) = (
            attest_attack::TechniqueId::parse(&e.old),
            attest_attack::TechniqueId::parse(&e.new),
        ) {
            table.insert(old, new);
        }
    }
    table
}

fn job_run_to_v1(run: &core::journal::JobRun) -> v1::JobRun {
    use core::journal::{JobOutcome as O, JobTrigger as T};
    v1::JobRun {
        job: run.job.clone(),
        trigger: match run.trigger {
            T::Schedule => v1::JobTrigger::Schedule,
            T::Manual => v1::JobTrigger::Manual,
        },
        attempt: run.attempt,
        started: run.started,
        finished: run.finished,
        outcome: match &run.outcome {
            O::Succeeded { summary } => v1::JobOutcome::Succeeded {
                summary: summary.clone(),
            },
            O::Failed { error } => v1::JobOutcome::Failed {
                error: error.clone(),
            },
        },
    }
}

fn job_run_from_v1(run: v1::JobRun) -> core::journal::JobRun {
    use core::journal::{JobOutcome as O, JobTrigger as T};
    core::journal::JobRun {
        job: run.job,
        trigger: match run.trigger {
            v1::JobTrigger::Schedule => T::Schedule,
            v1::JobTrigger::Manual => T::Manual,
        },
        attempt: run.attempt,
        started: run.started,
        finished: run.finished,
        outcome: match run.outcome {
            v1::JobOutcome::Succeeded { summary } => O::Succeeded { summary },
            v1::JobOutcome::Failed { error } => O::Failed { error },
        },
    }
}

fn release(r: &core::journal::AttackRelease) -> v1::AttackRelease {
    v1::AttackRelease {
        domain: r.domain.clone(),
        version: r.version.clone(),
        location: r.location.clone(),
    }
}

/// Stored form of the releases singleton.
pub fn releases_to_v1(r: &[core::journal::AttackRelease]) -> Vec<v1::AttackRelease> {
    r.iter().map(release).collect()
}

/// Core form of the releases singleton.
pub fn releases_from_v1(r: Vec<v1::AttackRelease>) -> Vec<core::journal::AttackRelease> {
    r.into_iter()
        .map(|r| core::journal::AttackRelease {
            domain: r.domain,
            version: r.version,
            location: r.location,
        })
        .collect()
}

/// Stored form of a policy.
pub fn policy_to_v1(p: &core::journal::Policy) -> v1::Policy {
    v1::Policy {
        default_window: p.default_window,
        tier_windows: p.tier_windows.clone(),
        technique_windows: p.technique_windows.clone(),
    }
}

/// Core form of a policy.
pub fn policy_from_v1(p: v1::Policy) -> core::journal::Policy {
    core::journal::Policy {
        default_window: p.default_window,
        tier_windows: p.tier_windows,
        technique_windows: p.technique_windows,
    }
}

fn pipeline_to_v1(s: core::source::PipelineState) -> v1::PipelineState {
    use core::source::PipelineState as P;
    match s {
        P::Planned => v1::PipelineState::Planned,
        P::Ingested => v1::PipelineState::Ingested,
        P::Normalised => v1::PipelineState::Normalised,
        P::Queryable => v1::PipelineState::Queryable,
    }
}

fn pipeline_from_v1(s: v1::PipelineState) -> core::source::PipelineState {
    use core::source::PipelineState as P;
    match s {
        v1::PipelineState::Planned => P::Planned,
        v1::PipelineState::Ingested => P::Ingested,
        v1::PipelineState::Normalised => P::Normalised,
        v1::PipelineState::Queryable => P::Queryable,
    }
}

fn log_source_to_v1(l: &core::source::LogSourceRef) -> v1::LogSourceRef {
    v1::LogSourceRef {
        name: l.name.clone(),
        channel: l.channel.clone(),
    }
}

fn log_source_from_v1(l: v1::LogSourceRef) -> core::source::LogSourceRef {
    core::source::LogSourceRef {
        name: l.name,
        channel: l.channel,
    }
}

/// Stored form of a data source.
pub fn source_to_v1(s: &core::source::DataSource) -> v1::DataSource {
    v1::DataSource {
        name: s.name.clone(),
        description: s.description.clone(),
        platforms: s.platforms.clone(),
        scope: s.scope.clone(),
        components: s.components.clone(),
        log_sources: s.log_sources.iter().map(log_source_to_v1).collect(),
        state: pipeline_to_v1(s.state),
        products: s.products.clone(),
        owner: s.owner.clone(),
        last_seen: s.last_seen,
        max_silence: s.max_silence,
    }
}

/// Core form of a data source.
pub fn source_from_v1(s: v1::DataSource) -> core::source::DataSource {
    core::source::DataSource {
        name: s.name,
        description: s.description,
        platforms: s.platforms,
        scope: s.scope,
        components: s.components,
        log_sources: s.log_sources.into_iter().map(log_source_from_v1).collect(),
        state: pipeline_from_v1(s.state),
        products: s.products,
        owner: s.owner,
        last_seen: s.last_seen,
        max_silence: s.max_silence,
    }
}

fn format_to_v1(f: core::rule::RuleFormat) -> v1::RuleFormat {
    use core::rule::RuleFormat as F;
    match f {
        F::Sigma => v1::RuleFormat::Sigma,
        F::Elastic => v1::RuleFormat::Elastic,
        F::Kibana => v1::RuleFormat::Kibana,
        F::Splunk => v1::RuleFormat::Splunk,
        F::SplunkConf => v1::RuleFormat::SplunkConf,
        F::Sentinel => v1::RuleFormat::Sentinel,
        F::Csv => v1::RuleFormat::Csv,
        F::Manual => v1::RuleFormat::Manual,
    }
}

fn format_from_v1(f: v1::RuleFormat) -> core::rule::RuleFormat {
    use core::rule::RuleFormat as F;
    match f {
        v1::RuleFormat::Sigma => F::Sigma,
        v1::RuleFormat::Elastic => F::Elastic,
        v1::RuleFormat::Kibana => F::Kibana,
        v1::RuleFormat::Splunk => F::Splunk,
        v1::RuleFormat::SplunkConf => F::SplunkConf,
        v1::RuleFormat::Sentinel => F::Sentinel,
        v1::RuleFormat::Csv => F::Csv,
        v1::RuleFormat::Manual => F::Manual,
    }
}

fn status_to_v1(s: core::rule::RuleStatus) -> v1::RuleStatus {
    use core::rule::RuleStatus as S;
    match s {
        S::Enabled => v1::RuleStatus::Enabled,
        S::Disabled => v1::RuleStatus::Disabled,
        S::Retired => v1::RuleStatus::Retired,
    }
}

fn status_from_v1(s: v1::RuleStatus) -> core::rule::RuleStatus {
    use core::rule::RuleStatus as S;
    match s {
        v1::RuleStatus::Enabled => S::Enabled,
        v1::RuleStatus::Disabled => S::Disabled,
        v1::RuleStatus::Retired => S::Retired,
    }
}

fn tuning_to_v1(t: &core::rule::Tuning) -> v1::Tuning {
    v1::Tuning {
        kind: match t.kind {
            core::rule::TuningKind::Suppression => v1::TuningKind::Suppression,
            core::rule::TuningKind::Exclusion => v1::TuningKind::Exclusion,
        },
        what: t.what.clone(),
        reason: t.reason.clone(),
        author: t.author.clone(),
        at: t.at,
    }
}

fn tuning_from_v1(t: v1::Tuning) -> core::rule::Tuning {
    core::rule::Tuning {
        kind: match t.kind {
            v1::TuningKind::Suppression => core::rule::TuningKind::Suppression,
            v1::TuningKind::Exclusion => core::rule::TuningKind::Exclusion,
        },
        what: t.what,
        reason: t.reason,
        author: t.author,
        at: t.at,
    }
}

fn dependency_to_v1(d: &core::rule::RuleDependency) -> v1::RuleDependency {
    use core::rule::Dependency as D;
    v1::RuleDependency {
        dependency: match &d.dependency {
            D::Component(c) => v1::Dependency::Component(c.clone()),
            D::LogSource(l) => v1::Dependency::LogSource(log_source_to_v1(l)),
            D::Source(s) => v1::Dependency::Source(s.clone()),
        },
        origin: match d.origin {
            core::rule::DependencyOrigin::Declared => v1::DependencyOrigin::Declared,
            core::rule::DependencyOrigin::Inferred => v1::DependencyOrigin::Inferred,
        },
    }
}

fn dependency_from_v1(d: v1::RuleDependency) -> core::rule::RuleDependency {
    use core::rule::Dependency as D;
    core::rule::RuleDependency {
        dependency: match d.dependency {
            v1::Dependency::Component(c) => D::Component(c),
            v1::Dependency::LogSource(l) => D::LogSource(log_source_from_v1(l)),
            v1::Dependency::Source(s) => D::Source(s),
        },
        origin: match d.origin {
            v1::DependencyOrigin::Declared => core::rule::DependencyOrigin::Declared,
            v1::DependencyOrigin::Inferred => core::rule::DependencyOrigin::Inferred,
        },
    }
}

/// Stored form of a rule.
pub fn rule_to_v1(r: &core::rule::Rule) -> v1::Rule {
    v1::Rule {
        id: r.id.0.clone(),
        title: r.title.clone(),
        origin: v1::Origin {
            format: format_to_v1(r.origin.format),
            path: r.origin.path.clone(),
            root: r.origin.root.clone(),
        },
        techniques: r.techniques.clone(),
        tactics: r.tactics.clone(),
        dependencies: r.dependencies.iter().map(dependency_to_v1).collect(),
        status: status_to_v1(r.status),
        severity: r.severity.clone(),
        owner: r.owner.clone(),
        maturity: r.maturity.clone(),
        tests: r.tests.clone(),
        created: r.created.clone(),
        modified: r.modified.clone(),
        content_hash: r.content_hash.clone(),
        tuning: r.tuning.iter().map(tuning_to_v1).collect(),
    }
}

/// Core form of a rule.
pub fn rule_from_v1(r: v1::Rule) -> core::rule::Rule {
    core::rule::Rule {
        id: RuleId(r.id),
        title: r.title,
        origin: core::rule::Origin {
            format: format_from_v1(r.origin.format),
            path: r.origin.path,
            root: r.origin.root,
        },
        techniques: r.techniques,
        tactics: r.tactics,
        dependencies: r.dependencies.into_iter().map(dependency_from_v1).collect(),
        status: status_from_v1(r.status),
        severity: r.severity,
        owner: r.owner,
        maturity: r.maturity,
        tests: r.tests,
        created: r.created,
        modified: r.modified,
        content_hash: r.content_hash,
        tuning: r.tuning.into_iter().map(tuning_from_v1).collect(),
    }
}

fn test_kind_to_v1(k: core::test::TestKind) -> v1::TestKind {
    use core::test::TestKind as K;
    match k {
        K::Atomic => v1::TestKind::Atomic,
        K::PurpleTeam => v1::TestKind::PurpleTeam,
        K::Simulation => v1::TestKind::Simulation,
        K::Replay => v1::TestKind::Replay,
    }
}

/// Stored form of a test.
pub fn test_to_v1(t: &core::test::Test) -> v1::Test {
    v1::Test {
        id: t.id.clone(),
        kind: test_kind_to_v1(t.kind),
        techniques: t.techniques.clone(),
        name: t.name.clone(),
        platforms: t.platforms.clone(),
        executor: t.executor.clone(),
        elevation_required: t.elevation_required,
    }
}

/// Core form of a test.
pub fn test_from_v1(t: v1::Test) -> core::test::Test {
    use core::test::TestKind as K;
    core::test::Test {
        id: t.id,
        kind: match t.kind {
            v1::TestKind::Atomic => K::Atomic,
            v1::TestKind::PurpleTeam => K::PurpleTeam,
            v1::TestKind::Simulation => K::Simulation,
            v1::TestKind::Replay => K::Replay,
        },
        techniques: t.techniques,
        name: t.name,
        platforms: t.platforms,
        executor: t.executor,
        elevation_required: t.elevation_required,
    }
}

/// Stored form of a validation result.
pub fn result_to_v1(r: &core::result::ValidationResult) -> v1::ValidationResult {
    use core::result::Outcome as O;
    v1::ValidationResult {
        rule: r.rule.0.clone(),
        technique: r.technique.clone(),
        test: r.test.clone(),
        outcome: match r.outcome {
            O::Pass => v1::Outcome::Pass,
            O::Fail => v1::Outcome::Fail,
            O::Error => v1::Outcome::Error,
            O::Skipped => v1::Outcome::Skipped,
        },
        at: r.at,
        by: r.by.clone(),
        evidence: v1::Evidence {
            text: r.evidence.text.clone(),
            url: r.evidence.url.clone(),
            event_ids: r.evidence.event_ids.clone(),
        },
    }
}

/// Core form of a validation result.
pub fn result_from_v1(r: v1::ValidationResult) -> core::result::ValidationResult {
    use core::result::Outcome as O;
    core::result::ValidationResult {
        rule: RuleId(r.rule),
        technique: r.technique,
        test: r.test,
        outcome: match r.outcome {
            v1::Outcome::Pass => O::Pass,
            v1::Outcome::Fail => O::Fail,
            v1::Outcome::Error => O::Error,
            v1::Outcome::Skipped => O::Skipped,
        },
        at: r.at,
        by: r.by,
        evidence: core::result::Evidence {
            text: r.evidence.text,
            url: r.evidence.url,
            event_ids: r.evidence.event_ids,
        },
    }
}

/// Stored form of an actor.
pub fn actor_to_v1(a: &core::profile::Actor) -> v1::Actor {
    v1::Actor {
        id: a.id.clone(),
        name: a.name.clone(),
        aliases: a.aliases.clone(),
        origin: match &a.origin {
            core::profile::ActorOrigin::Attack => v1::ActorOrigin::Attack,
            core::profile::ActorOrigin::Intel(s) => v1::ActorOrigin::Intel(s.clone()),
        },
        techniques: a
            .techniques
            .iter()
            .map(|t| v1::ActorTechnique {
                technique: t.technique.clone(),
                weight: t.weight,
                low_confidence: t.low_confidence,
            })
            .collect(),
    }
}

/// Core form of an actor.
pub fn actor_from_v1(a: v1::Actor) -> core::profile::Actor {
    core::profile::Actor {
        id: a.id,
        name: a.name,
        aliases: a.aliases,
        origin: match a.origin {
            v1::ActorOrigin::Attack => core::profile::ActorOrigin::Attack,
            v1::ActorOrigin::Intel(s) => core::profile::ActorOrigin::Intel(s),
        },
        techniques: a
            .techniques
            .into_iter()
            .map(|t| core::profile::ActorTechnique {
                technique: t.technique,
                weight: t.weight,
                low_confidence: t.low_confidence,
            })
            .collect(),
    }
}

/// Stored form of a profile.
pub fn profile_to_v1(p: &core::profile::Profile) -> v1::Profile {
    v1::Profile {
        name: p.name.clone(),
        description: p.description.clone(),
        actors: p
            .actors
            .iter()
            .map(|a| v1::ProfileActor {
                actor: a.actor.clone(),
                weight: a.weight,
            })
            .collect(),
        sectors: p.sectors.clone(),
        platforms: p.platforms.clone(),
        extra_techniques: p.extra_techniques.clone(),
        exclusions: p.exclusions.clone(),
        paths: v1::ActorPaths {
            via_software: p.paths.via_software,
            via_campaigns: p.paths.via_campaigns,
        },
        exposures: p.exposures,
    }
}

/// Core form of a profile.
pub fn profile_from_v1(p: v1::Profile) -> core::profile::Profile {
    core::profile::Profile {
        name: p.name,
        description: p.description,
        actors: p
            .actors
            .into_iter()
            .map(|a| core::profile::ProfileActor {
                actor: a.actor,
                weight: a.weight,
            })
            .collect(),
        sectors: p.sectors,
        platforms: p.platforms,
        extra_techniques: p.extra_techniques,
        exclusions: p.exclusions,
        paths: core::profile::ActorPaths {
            via_software: p.paths.via_software,
            via_campaigns: p.paths.via_campaigns,
        },
        exposures: p.exposures,
    }
}
