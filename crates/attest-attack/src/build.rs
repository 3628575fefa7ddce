//! Building a [`KnowledgeBase`] from bundle bytes: decode, parse borrowed, convert, index.
//!
//! One pass over each bundle's objects converts everything except relationships; relationships
//! are kept borrowed until every bundle is read (they may point across bundles), then resolved
//! and indexed in a second, much smaller pass.

use std::borrow::Cow;
use std::io::Read;

use crate::TechniqueId;
use crate::error::{Error, Warning, WarningKind};
use crate::hash::{FxHashMap as HashMap, FxHashSet};
use crate::kb::{Kind, KnowledgeBase, Ref};
use crate::model::*;
use crate::raw::{BundleSeed, RawBundle, RawIdOnly, RawObject, Str};

/// One bundle to load: its bytes (`.json` or gzip-compressed `.json.gz`, detected by the magic
/// bytes) and a name used in errors and warnings.
#[derive(Debug, Clone, Copy)]
pub struct BundleInput<'a> {
    /// A name for errors and warnings, usually the file name.
    pub name: &'a str,
    /// The bundle, plain JSON or gzip.
    pub bytes: &'a [u8],
    /// The ATT&CK release (e.g. `18.1`) when the caller knows it. MITRE's `mitre/cti` bundles do
    /// not state their release; `attack-stix-data` bundles do, in `x-mitre-collection`, and that
    /// wins over this hint.
    pub release: Option<&'a str>,
}

impl<'a> BundleInput<'a> {
    /// An input with a name and bytes, and no release hint.
    pub fn new(name: &'a str, bytes: &'a [u8]) -> Self {
        Self {
            name,
            bytes,
            release: None,
        }
    }
}

/// Decompresses (when gzip) and checks UTF-8. Plain JSON is borrowed, not copied.
pub fn decode_bundle(bytes: &[u8]) -> Result<Cow<'_, str>, Error> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        // The gzip trailer's ISIZE is a hint only (it can lie, and is mod 2^32); cap it so a
        // hostile header cannot make us reserve gigabytes up front.
        let hint = bytes
            .len()
            .checked_sub(4)
            .and_then(|i| bytes.get(i..))
            .and_then(|t| <[u8; 4]>::try_from(t).ok())
            .map_or(0, |t| u32::from_le_bytes(t) as usize);
        let cap = hint.min(bytes.len().saturating_mul(16)).min(1 << 30);
        let mut out = Vec::with_capacity(cap);
        let mut dec = flate2::read::MultiGzDecoder::new(bytes);
        if let Err(source) = dec.read_to_end(&mut out) {
            return Err(Error::Gzip {
                decompressed: out.len(),
                source,
            });
        }
        let s = String::from_utf8(out).map_err(|e| Error::Utf8 {
            offset: e.utf8_error().valid_up_to(),
        })?;
        Ok(Cow::Owned(s))
    } else {
        let s = std::str::from_utf8(bytes).map_err(|e| Error::Utf8 {
            offset: e.valid_up_to(),
        })?;
        Ok(Cow::Borrowed(s))
    }
}

fn json_error(source: serde_json::Error) -> Error {
    Error::Json {
        line: source.line(),
        column: source.column(),
        source,
    }
}

/// A relationship kept aside until every bundle is read (its ends may be in a later bundle).
/// Owned, so that a bundle's text can be dropped piece by piece as it is parsed.
struct PendingRel {
    bundle: usize,
    id: String,
    /// `None`: no `relationship_type`; `Some(Err(s))`: a type attest does not model.
    kind: Option<Result<RelationshipKind, String>>,
    source: Option<String>,
    target: Option<String>,
    description: Option<String>,
}

/// What the fast path learns about a bundle's envelope, across its pieces.
#[derive(Default)]
struct Envelope {
    kind: Option<String>,
    spec_version: Option<String>,
    has_objects: bool,
    objects: usize,
}

/// Per-bundle facts gathered while reading its objects.
#[derive(Default)]
struct BundleFacts {
    release: Option<String>,
    collection_name: Option<String>,
    matrix: Option<(String, String, Vec<String>)>,
    spec_version: Option<String>,
    attack_spec_version: Option<String>,
    domain_votes: HashMap<String, usize>,
    without_domain: Vec<Ref>,
}

pub(crate) struct Builder<'w> {
    kb: KnowledgeBase,
    warnings: &'w mut Vec<Warning>,
    bundle_names: Vec<String>,
    /// Length of each kind's vector when the current bundle started: an existing object with a
    /// higher index came from the current bundle.
    bundle_start: HashMap<Kind, u32>,
}

fn wrap(name: &str, e: Error) -> Error {
    Error::InBundle {
        name: name.to_owned(),
        source: Box::new(e),
    }
}

const ATTACK_SOURCES: [&str; 3] = ["mitre-attack", "mitre-ics-attack", "mitre-mobile-attack"];

fn attack_ref<'o>(o: &'o RawObject<'_>) -> (Option<&'o str>, Option<&'o str>) {
    for r in o.external_references.iter().flatten() {
        let is_attack = r
            .source_name
            .as_ref()
            .is_some_and(|s| ATTACK_SOURCES.contains(&s.as_str()));
        if is_attack {
            return (
                r.external_id.as_ref().map(Str::as_str),
                r.url.as_ref().map(Str::as_str),
            );
        }
    }
    (None, None)
}

fn strings(v: &Option<Vec<Str<'_>>>) -> Vec<String> {
    v.iter()
        .flatten()
        .map(|s| s.0.clone().into_owned())
        .collect()
}

fn take(v: &mut Option<Str<'_>>) -> Option<String> {
    v.take().map(|s| s.0.into_owned())
}

fn owned(v: &Option<Str<'_>>) -> Option<String> {
    v.as_ref().map(|s| s.0.clone().into_owned())
}

/// Compares dotted version strings numerically (`3.10.0` > `3.9.1`).
fn version_gt(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) > parse(b)
}

impl<'w> Builder<'w> {
    fn new(warnings: &'w mut Vec<Warning>) -> Self {
        Self {
            kb: KnowledgeBase::default(),
            warnings,
            bundle_names: Vec::new(),
            bundle_start: HashMap::default(),
        }
    }

    fn warn(&mut self, bundle: usize, kind: WarningKind, object: Option<&str>, message: String) {
        let name = self.bundle_names.get(bundle).cloned().unwrap_or_default();
        self.warnings.push(Warning {
            kind,
            bundle: name,
            object: object.map(str::to_owned),
            message,
        });
    }

    /// Loads every input; errors are wrapped with the input's name.
    ///
    /// The first attempt streams each bundle straight into typed objects (one pass; gzip is
    /// inflated on a helper thread while the pieces already inflated are parsed). If anything
    /// fails that way, everything is rebuilt in robust mode: decompress whole, check the
    /// envelope, split into raw objects so that one bad object costs a warning, not the load,
    /// and report errors precisely.
    pub(crate) fn load(
        warnings: &'w mut Vec<Warning>,
        inputs: &[BundleInput<'_>],
    ) -> Result<KnowledgeBase, Error> {
        Self::load_traced(warnings, inputs).0
    }

    /// [`Self::load`], also telling whether the fast path succeeded (for tests).
    pub(crate) fn load_traced(
        warnings: &'w mut Vec<Warning>,
        inputs: &[BundleInput<'_>],
    ) -> (Result<KnowledgeBase, Error>, bool) {
        let start = warnings.len();
        if let Ok(kb) = Builder::new(&mut *warnings).run_fast(inputs) {
            return (Ok(kb), true);
        }
        warnings.truncate(start);
        let mut texts = Vec::with_capacity(inputs.len());
        for input in inputs {
            match decode_bundle(input.bytes) {
                Ok(t) => texts.push(t),
                Err(e) => return (Err(wrap(input.name, e)), false),
            }
        }
        (Builder::new(warnings).run_robust(inputs, &texts), false)
    }

    fn start_bundle(&mut self, input: &BundleInput<'_>) {
        self.bundle_names.push(input.name.to_owned());
        self.bundle_start = Kind::ALL
            .iter()
            .map(|&k| (k, self.kb.kind_len(k)))
            .collect();
    }

    fn finish(mut self, pending: Vec<PendingRel>) -> KnowledgeBase {
        self.resolve_relationships(pending);
        self.kb.finish_indexes(self.warnings, &self.bundle_names);
        self.kb
    }

    /// The fast path; `Err(())` means "retry in robust mode".
    fn run_fast(mut self, inputs: &[BundleInput<'_>]) -> Result<KnowledgeBase, ()> {
        let mut pending = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            self.start_bundle(input);
            let mut facts = BundleFacts::default();
            let mut env = Envelope::default();
            if input.bytes.starts_with(&[0x1f, 0x8b]) {
                self.read_gzip_fast(i, input.bytes, &mut pending, &mut facts, &mut env)?;
            } else {
                let text = std::str::from_utf8(input.bytes).map_err(|_| ())?;
                self.read_text_fast(i, text, &mut pending, &mut facts, &mut env)?;
            }
            if env.kind.as_deref() != Some("bundle") || !env.has_objects {
                return Err(());
            }
            if env.spec_version.is_some() {
                facts.spec_version = env.spec_version;
            }
            self.finish_domain(i, input, facts);
        }
        Ok(self.finish(pending))
    }

    /// Inflates on a helper thread and parses each piece as soon as it arrives.
    fn read_gzip_fast(
        &mut self,
        bundle: usize,
        bytes: &[u8],
        pending: &mut Vec<PendingRel>,
        facts: &mut BundleFacts,
        env: &mut Envelope,
    ) -> Result<(), ()> {
        std::thread::scope(|s| {
            // Two pieces in flight bound the memory while keeping the inflater busy.
            let (tx, rx) = std::sync::mpsc::sync_channel(2);
            std::thread::Builder::new()
                .name("attack-gunzip".into())
                .spawn_scoped(s, move || {
                    crate::pieces::gunzip_pieces(bytes, crate::pieces::PIECE, &tx)
                })
                .map_err(|_| ())?;
            for piece in rx.iter() {
                let text = piece.and_then(|p| String::from_utf8(p).ok()).ok_or(())?;
                self.read_text_fast(bundle, &text, pending, facts, env)?;
            }
            Ok(())
        })
    }

    /// Streams one bundle (or one piece of it) straight into typed objects.
    fn read_text_fast(
        &mut self,
        bundle: usize,
        text: &str,
        pending: &mut Vec<PendingRel>,
        facts: &mut BundleFacts,
        env: &mut Envelope,
    ) -> Result<(), ()> {
        use serde::de::DeserializeSeed;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut n = env.objects;
        let mut on_object = |o: RawObject<'_>| {
            let i = n;
            n += 1;
            self.read_object(bundle, o, &|| format!("object #{i}"), pending, facts);
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let b = BundleSeed {
            on_object: &mut on_object,
        }
        .deserialize(&mut de)
        .and_then(|b| de.end().map(|()| b))
        .map_err(|_| ())?;
        env.objects = n;
        if env.kind.is_none() {
            env.kind = b.kind.map(|k| k.0.into_owned());
        }
        if env.spec_version.is_none() {
            env.spec_version = b.spec_version.map(|k| k.0.into_owned());
        }
        env.has_objects |= b.has_objects;
        Ok(())
    }

    fn run_robust(
        mut self,
        inputs: &[BundleInput<'_>],
        texts: &[Cow<'_, str>],
    ) -> Result<KnowledgeBase, Error> {
        let mut pending = Vec::new();
        for (i, (input, text)) in inputs.iter().zip(texts).enumerate() {
            self.start_bundle(input);
            let facts = self
                .read_bundle_robust(i, text, &mut pending)
                .map_err(|e| wrap(input.name, e))?;
            self.finish_domain(i, input, facts);
        }
        Ok(self.finish(pending))
    }

    fn read_bundle_robust(
        &mut self,
        bundle: usize,
        text: &str,
        pending: &mut Vec<PendingRel>,
    ) -> Result<BundleFacts, Error> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        match text.trim_start().as_bytes().first() {
            Some(b'{') => {}
            Some(b'[') => {
                return Err(Error::NotABundle {
                    reason: "the top level is a JSON array; expected a STIX bundle object \
                             ({\"type\": \"bundle\", \"objects\": [...]})"
                        .into(),
                });
            }
            Some(_) => {
                // Let the parser name the exact position of whatever is there.
                return Err(serde_json::from_str::<serde::de::IgnoredAny>(text)
                    .err()
                    .map_or_else(
                        || Error::NotABundle {
                            reason: "the top level is not a JSON object".into(),
                        },
                        json_error,
                    ));
            }
            None => {
                return Err(Error::NotABundle {
                    reason: "the input is empty".into(),
                });
            }
        }
        let mut facts = BundleFacts::default();
        let (kind, has_objects) = {
            let raw: RawBundle<'_> = serde_json::from_str(text).map_err(json_error)?;
            if let Some(v) = &raw.spec_version {
                facts.spec_version = Some(v.as_str().to_owned());
            }
            let has = raw.objects.is_some();
            for (i, raw) in raw.objects.into_iter().flatten().enumerate() {
                let src = raw.get();
                let offset = (src.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                let at = || format!("object #{i} at byte offset {offset}");
                match serde_json::from_str::<RawObject<'_>>(src) {
                    Ok(o) => self.read_object(bundle, o, &at, pending, &mut facts),
                    Err(e) => {
                        let id = serde_json::from_str::<RawIdOnly<'_>>(src)
                            .ok()
                            .and_then(|r| r.id)
                            .map(|s| s.0.into_owned());
                        self.warn(
                            bundle,
                            WarningKind::MalformedObject,
                            id.as_deref(),
                            format!("{} skipped: {e}", at()),
                        );
                    }
                }
            }
            (raw.kind, has)
        };
        match kind.as_ref().map(Str::as_str) {
            Some("bundle") => {}
            Some(other) => {
                return Err(Error::NotABundle {
                    reason: format!("top-level object has type `{other}`, expected `bundle`"),
                });
            }
            None => {
                return Err(Error::NotABundle {
                    reason: "top-level object has no `type` (expected `bundle`)".into(),
                });
            }
        }
        if !has_objects {
            return Err(Error::NotABundle {
                reason: "bundle has no `objects` array".into(),
            });
        }
        Ok(facts)
    }

    fn read_object<'t>(
        &mut self,
        bundle: usize,
        o: RawObject<'t>,
        at: &dyn Fn() -> String,
        pending: &mut Vec<PendingRel>,
        facts: &mut BundleFacts,
    ) {
        let (Some(kind), Some(id)) = (o.kind.clone(), o.id.clone()) else {
            let what = if o.kind.is_none() { "`type`" } else { "`id`" };
            let id = o.id.as_ref().map(|s| s.as_str().to_owned());
            self.warn(
                bundle,
                WarningKind::MissingField,
                id.as_deref(),
                format!("{} has no {what}; skipped", at()),
            );
            return;
        };
        if facts.spec_version.is_none()
            && let Some(v) = &o.spec_version
        {
            facts.spec_version = Some(v.as_str().to_owned());
        }
        if let Some(v) = &o.x_mitre_attack_spec_version {
            let newer = facts
                .attack_spec_version
                .as_deref()
                .is_none_or(|cur| version_gt(v.as_str(), cur));
            if newer {
                facts.attack_spec_version = Some(v.as_str().to_owned());
            }
        }
        if let Some(d) = o.x_mitre_domains.as_ref().and_then(|d| d.first()) {
            // Counting only the first domain keeps this cheap; it is a fallback for bundles
            // without a matrix.
            if let Some(n) = facts.domain_votes.get_mut(d.as_str()) {
                *n += 1;
            } else {
                facts.domain_votes.insert(d.as_str().to_owned(), 1);
            }
        }
        let k = match kind.as_str() {
            "relationship" => {
                if o.revoked == Some(true) || o.x_mitre_deprecated == Some(true) {
                    return;
                }
                let into = |v: Option<Str<'_>>| v.map(|s| s.0.into_owned());
                pending.push(PendingRel {
                    bundle,
                    id: id.0.into_owned(),
                    kind: o.relationship_type.as_ref().map(|k| {
                        RelationshipKind::parse(k.as_str()).ok_or_else(|| k.as_str().to_owned())
                    }),
                    source: into(o.source_ref),
                    target: into(o.target_ref),
                    description: into(o.description).filter(|d| !d.is_empty()),
                });
                return;
            }
            "x-mitre-collection" => {
                facts.release = owned(&o.x_mitre_version);
                facts.collection_name = owned(&o.name);
                return;
            }
            "x-mitre-matrix" => {
                if o.revoked == Some(true) || o.x_mitre_deprecated == Some(true) {
                    return;
                }
                let key = o
                    .x_mitre_domains
                    .as_ref()
                    .and_then(|d| d.first())
                    .map(|s| s.as_str().to_owned())
                    .or_else(|| attack_ref(&o).0.map(str::to_owned));
                let tactics = strings(&o.tactic_refs);
                // Mobile 17.1 has a deprecated second matrix; the longest active one is the
                // domain's main matrix.
                let better = facts
                    .matrix
                    .as_ref()
                    .is_none_or(|(_, _, t)| tactics.len() > t.len());
                if let (Some(key), true) = (key, better) {
                    facts.matrix = Some((key, owned(&o.name).unwrap_or_default(), tactics));
                }
                return;
            }
            "identity" | "marking-definition" => return,
            "x-mitre-tactic" => Kind::Tactic,
            "attack-pattern" => Kind::Technique,
            "intrusion-set" => Kind::Group,
            "malware" | "tool" => Kind::Software,
            "campaign" => Kind::Campaign,
            "course-of-action" => Kind::Mitigation,
            "x-mitre-data-source" => Kind::DataSource,
            "x-mitre-data-component" => Kind::DataComponent,
            "x-mitre-detection-strategy" => Kind::DetectionStrategy,
            "x-mitre-analytic" => Kind::Analytic,
            other => {
                self.warn(
                    bundle,
                    WarningKind::UnknownType,
                    Some(id.as_str()),
                    format!("object type `{other}` is not modelled; skipped"),
                );
                return;
            }
        };
        let mut replaces: Option<Ref> = None;
        if let Some(&existing) = self.kb.by_stix.get(id.as_str()) {
            if existing.kind == k && self.is_newer_copy(existing, &o) {
                replaces = Some(existing);
            } else {
                self.merge_duplicate(bundle, existing, &o);
                return;
            }
        }
        let (attack_id, url) = attack_ref(&o);
        let (attack_id, url) = (attack_id.map(str::to_owned), url.map(str::to_owned));
        let mut o = o;
        let meta = Meta {
            stix_id: id.as_str().to_owned(),
            attack_id: attack_id.clone(),
            // Moved, not copied: descriptions with escapes were already decoded into an owned
            // string by the parser.
            name: take(&mut o.name).unwrap_or_default(),
            description: take(&mut o.description).unwrap_or_default(),
            url,
            revoked: o.revoked.unwrap_or(false),
            deprecated: o.x_mitre_deprecated.unwrap_or(false),
            domains: strings(&o.x_mitre_domains),
            version: take(&mut o.x_mitre_version),
            modified: take(&mut o.modified),
        };
        let no_domain = meta.domains.is_empty();
        let idx = match k {
            Kind::Tactic => {
                let shortname = match &o.x_mitre_shortname {
                    Some(s) => s.as_str().to_owned(),
                    None => {
                        self.warn(
                            bundle,
                            WarningKind::OddValue,
                            Some(id.as_str()),
                            "tactic without `x_mitre_shortname`".into(),
                        );
                        meta.name.to_lowercase().replace(' ', "-")
                    }
                };
                push(&mut self.kb.tactics, Tactic { meta, shortname })
            }
            Kind::Technique => {
                let Some(tid) = attack_id
                    .as_deref()
                    .and_then(|a| TechniqueId::parse(a).ok())
                else {
                    self.warn(
                        bundle,
                        WarningKind::MissingAttackId,
                        Some(id.as_str()),
                        format!(
                            "attack-pattern without a valid T-number ({}); skipped",
                            attack_id.as_deref().unwrap_or("none")
                        ),
                    );
                    return;
                };
                let mut meta = meta;
                // Store the canonical spelling so string look-ups and the typed id agree.
                meta.attack_id = Some(tid.to_string());
                let tactics = o
                    .kill_chain_phases
                    .iter()
                    .flatten()
                    .filter(|p| {
                        p.kill_chain_name
                            .as_ref()
                            .is_some_and(|n| n.as_str().starts_with("mitre-"))
                    })
                    .filter_map(|p| p.phase_name.as_ref().map(|s| s.as_str().to_owned()))
                    .collect();
                let is_sub = tid.is_subtechnique();
                if o.x_mitre_is_subtechnique.is_some_and(|f| f != is_sub) {
                    self.warn(
                        bundle,
                        WarningKind::OddValue,
                        Some(id.as_str()),
                        format!("x_mitre_is_subtechnique disagrees with the id {tid}"),
                    );
                }
                let t = Technique {
                    meta,
                    id: tid,
                    tactics,
                    platforms: strings(&o.x_mitre_platforms),
                    is_subtechnique: is_sub,
                };
                push(&mut self.kb.techniques, t)
            }
            Kind::Group => push(
                &mut self.kb.groups,
                Group {
                    meta,
                    aliases: strings(&o.aliases),
                },
            ),
            Kind::Software => push(
                &mut self.kb.software,
                Software {
                    meta,
                    kind: if kind.as_str() == "tool" {
                        SoftwareKind::Tool
                    } else {
                        SoftwareKind::Malware
                    },
                    aliases: strings(&o.x_mitre_aliases),
                    platforms: strings(&o.x_mitre_platforms),
                },
            ),
            Kind::Campaign => push(
                &mut self.kb.campaigns,
                Campaign {
                    meta,
                    aliases: strings(&o.aliases),
                },
            ),
            Kind::Mitigation => push(&mut self.kb.mitigations, Mitigation { meta }),
            Kind::DataSource => push(
                &mut self.kb.data_sources,
                DataSource {
                    meta,
                    platforms: strings(&o.x_mitre_platforms),
                },
            ),
            Kind::DataComponent => push(
                &mut self.kb.data_components,
                DataComponent {
                    meta,
                    data_source: owned(&o.x_mitre_data_source_ref).filter(|s| !s.is_empty()),
                    log_sources: o
                        .x_mitre_log_sources
                        .iter()
                        .flatten()
                        .filter_map(|l| {
                            Some(LogSource {
                                name: owned(&l.name)?,
                                channel: owned(&l.channel),
                            })
                        })
                        .collect(),
                },
            ),
            Kind::DetectionStrategy => push(
                &mut self.kb.detection_strategies,
                DetectionStrategy {
                    meta,
                    analytic_refs: strings(&o.x_mitre_analytic_refs),
                },
            ),
            Kind::Analytic => push(
                &mut self.kb.analytics,
                Analytic {
                    meta,
                    platforms: strings(&o.x_mitre_platforms),
                    log_source_references: o
                        .x_mitre_log_source_references
                        .iter()
                        .flatten()
                        .filter_map(|l| {
                            Some(LogSourceReference {
                                data_component: owned(&l.x_mitre_data_component_ref)?,
                                name: owned(&l.name)?,
                                channel: owned(&l.channel),
                            })
                        })
                        .collect(),
                },
            ),
        };
        let r = match replaces {
            Some(old) => {
                // A newer copy from a later bundle (e.g. an ICS 18.1 data source that an
                // Enterprise 17.1 bundle also holds): it takes the old slot, keeping every
                // domain either copy named.
                let old_domains = self
                    .kb
                    .obj(old)
                    .map(|o| o.meta().domains.clone())
                    .unwrap_or_default();
                self.kb.replace_with_last(old.kind, old.idx);
                if let Some(m) = self.kb.meta_of_mut(old) {
                    for d in old_domains {
                        if !m.domains.contains(&d) {
                            m.domains.push(d);
                        }
                    }
                }
                old
            }
            None => {
                let r = Ref { kind: k, idx };
                self.kb.by_stix.insert(id.0.into_owned(), r);
                r
            }
        };
        if no_domain {
            facts.without_domain.push(r);
        }
    }

    /// Whether `o` comes from a later bundle than `existing` and is more recently modified.
    fn is_newer_copy(&self, existing: Ref, o: &RawObject<'_>) -> bool {
        let from_earlier_bundle = self
            .bundle_start
            .get(&existing.kind)
            .is_some_and(|&start| existing.idx < start);
        let old_modified = self
            .kb
            .obj(existing)
            .and_then(|x| x.meta().modified.clone());
        // STIX timestamps are RFC 3339 in UTC, so text order is time order.
        from_earlier_bundle
            && matches!((o.modified.as_ref(), old_modified), (Some(new), Some(old)) if new.as_str() > old.as_str())
    }

    /// The same STIX id again: keep the first copy, add any new domains (an object shared by
    /// two domains' bundles), and warn only when one bundle repeats itself.
    fn merge_duplicate(&mut self, bundle: usize, existing: Ref, o: &RawObject<'_>) {
        let same_bundle = self
            .bundle_start
            .get(&existing.kind)
            .is_some_and(|&start| existing.idx >= start);
        if let Some(meta) = self.kb.meta_of_mut(existing) {
            for d in o.x_mitre_domains.iter().flatten() {
                if !meta.domains.iter().any(|m| m == d.as_str()) {
                    meta.domains.push(d.as_str().to_owned());
                }
            }
        }
        if same_bundle {
            let id = o.id.as_ref().map(|s| s.as_str().to_owned());
            self.warn(
                bundle,
                WarningKind::DuplicateObject,
                id.as_deref(),
                "STIX id appears more than once in the bundle; the first copy was kept".into(),
            );
        }
    }

    fn finish_domain(&mut self, bundle: usize, input: &BundleInput<'_>, facts: BundleFacts) {
        let (key, name, tactic_order) = match facts.matrix {
            Some(m) => m,
            None => {
                let key = facts
                    .domain_votes
                    .iter()
                    .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
                    .map(|(k, _)| k.clone())
                    .unwrap_or_else(|| "unknown".to_owned());
                self.warn(
                    bundle,
                    WarningKind::OddValue,
                    None,
                    format!("bundle has no active x-mitre-matrix; domain taken as `{key}`"),
                );
                (key, String::new(), Vec::new())
            }
        };
        let name = facts.collection_name.unwrap_or(name);
        let release = facts.release.or_else(|| input.release.map(str::to_owned));
        if release.is_none() {
            self.warn(
                bundle,
                WarningKind::UnknownRelease,
                None,
                "the bundle does not state its ATT&CK release and none was given".into(),
            );
        }
        for r in facts.without_domain {
            if let Some(m) = self.kb.meta_of_mut(r) {
                m.domains.push(key.clone());
            }
        }
        self.kb.domains.push(Domain {
            key,
            name,
            release,
            attack_spec_version: facts.attack_spec_version,
            stix_version: facts.spec_version,
            bundle: input.name.to_owned(),
            data_model: DataModel::None,
            tactic_order,
        });
    }

    fn resolve_relationships(&mut self, pending: Vec<PendingRel>) {
        // Bundles of several domains repeat shared relationships; keep the first of each id.
        let mut keep = vec![true; pending.len()];
        {
            let mut seen = FxHashSet::default();
            seen.reserve(pending.len());
            for (k, p) in keep.iter_mut().zip(&pending) {
                *k = seen.insert(p.id.as_str());
            }
        }
        self.kb.relationships.reserve(pending.len());
        for (p, keep) in pending.into_iter().zip(keep) {
            if !keep {
                continue;
            }
            let id = p.id.as_str();
            let kind = match p.kind {
                Some(Ok(k)) => k,
                None => {
                    self.warn(
                        p.bundle,
                        WarningKind::MissingField,
                        Some(id),
                        "relationship without `relationship_type`; skipped".into(),
                    );
                    continue;
                }
                Some(Err(other)) => {
                    self.warn(
                        p.bundle,
                        WarningKind::UnknownRelationship,
                        Some(id),
                        format!("relationship type `{other}` is not modelled; skipped"),
                    );
                    continue;
                }
            };
            let kind_str = kind.as_str();
            let (Some(source), Some(target)) = (p.source, p.target) else {
                self.warn(
                    p.bundle,
                    WarningKind::MissingField,
                    Some(id),
                    "relationship without `source_ref` or `target_ref`; skipped".into(),
                );
                continue;
            };
            let s = self.kb.by_stix.get(source.as_str()).copied();
            let t = self.kb.by_stix.get(target.as_str()).copied();
            let (Some(s), Some(t)) = (s, t) else {
                let missing = if s.is_none() { &source } else { &target };
                self.warn(
                    p.bundle,
                    WarningKind::DanglingReference,
                    Some(id),
                    format!(
                        "`{kind_str}` relationship points to `{missing}`, which is not loaded; skipped"
                    ),
                );
                continue;
            };
            use Kind as K;
            let ok = match kind {
                RelationshipKind::Uses => {
                    matches!(s.kind, K::Group | K::Software | K::Campaign)
                        && matches!(t.kind, K::Technique | K::Software)
                }
                RelationshipKind::Mitigates => s.kind == K::Mitigation && t.kind == K::Technique,
                RelationshipKind::Detects => {
                    matches!(s.kind, K::DetectionStrategy | K::DataComponent)
                        && t.kind == K::Technique
                }
                RelationshipKind::SubtechniqueOf => {
                    s.kind == K::Technique && t.kind == K::Technique
                }
                RelationshipKind::RevokedBy => s.kind == t.kind,
                RelationshipKind::AttributedTo => s.kind == K::Campaign && t.kind == K::Group,
            };
            if !ok {
                self.warn(
                    p.bundle,
                    WarningKind::UnexpectedEnds,
                    Some(id),
                    format!(
                        "`{kind_str}` from a {} to a {} is not expected; skipped",
                        s.kind.label(),
                        t.kind.label()
                    ),
                );
                continue;
            }
            self.kb.push_relationship(
                Relationship {
                    stix_id: p.id,
                    kind,
                    source,
                    target,
                    description: p.description,
                },
                s,
                t,
            );
        }
    }
}

fn push<T>(v: &mut Vec<T>, item: T) -> u32 {
    v.push(item);
    // Bundles hold tens of thousands of objects; u32 indexes keep the maps small.
    u32::try_from(v.len() - 1).unwrap_or(u32::MAX)
}
