//! Threat actors and profiles: which techniques matter, and why.

/// Where an actor's technique list comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActorOrigin {
    /// An ATT&CK group from the loaded knowledge base (its techniques come from the KB).
    Attack,
    /// The team's own intel (a STIX bundle from a TIP, DeTT&CT YAML, hand-written YAML); the
    /// string names the file or feed.
    Intel(String),
}

/// A technique used by an intel actor.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorTechnique {
    /// ATT&CK ID as found, upper-cased.
    pub technique: String,
    /// Weight given by the intel (DeTT&CT scores); 1.0 when not given.
    pub weight: f64,
    /// True when the technique was resolved from a name or alias only, not an id.
    pub low_confidence: bool,
}

/// An actor from the team's own intel. ATT&CK groups are not stored: the KB has them.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    /// Stable id (STIX id, or a slug of the name).
    pub id: String,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Where it came from.
    pub origin: ActorOrigin,
    /// Techniques it uses.
    pub techniques: Vec<ActorTechnique>,
}

/// An actor chosen in a profile, with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileActor {
    /// ATT&CK group ID/name/alias or intel actor id/name, as written in the profile.
    pub actor: String,
    /// Weight (default 1.0).
    pub weight: f64,
}

/// Which ATT&CK paths from a group to a technique count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActorPaths {
    /// Techniques of software the group uses.
    pub via_software: bool,
    /// Techniques of campaigns attributed to the group.
    pub via_campaigns: bool,
}

/// A profile: actors, sectors, platforms and hand-picked techniques combined into a prioritised
/// target set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    /// Unique name; the key.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Actors with weights.
    pub actors: Vec<ProfileActor>,
    /// Sectors (informational; used to pick actors).
    pub sectors: Vec<String>,
    /// Platforms in scope; empty means all.
    pub platforms: Vec<String>,
    /// Hand-picked techniques with their weights.
    pub extra_techniques: Vec<(String, f64)>,
    /// Techniques excluded from the target set.
    pub exclusions: Vec<String>,
    /// Which group → technique paths count.
    pub paths: ActorPaths,
    /// When set, techniques that exploit open exposures join the target set with this weight
    /// (a finding of severity 10 adds the whole weight; see
    /// [`crate::priority::target_set_with_exposures`]).
    pub exposures: Option<f64>,
}
