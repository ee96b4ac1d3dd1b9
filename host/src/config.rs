//! The YAML configuration: [`RawConfig`] as written (serde) to [`Config`], validated and with
//! `{{ get_env('NAME') }}` templates rendered.
//!
//! Loading takes three steps, so that every error can name the file, the key path and the line:
//! 1. the text is deserialized into [`RawConfig`] with `serde_path_to_error`, which catches unknown
//!    keys and wrong types with their key path and line;
//! 2. the text is parsed again as a YAML tree and every string value is rendered (see
//!    [`template`]), collecting every template problem;
//! 3. the rendered tree is deserialized into [`RawConfig`] again and validated into [`Config`].
//!
//! A later section (such as `pipelines:`) is a new field of [`RawConfig`] and [`Config`]: it is
//! checked for unknown keys and rendered like the others without touching these steps.
//!
//! ## Layout
//! - [`template`]: the `{{ get_env(...) }}` renderer and the tree walk that tracks key paths.
//! - [`error`]: [`ConfigError`] and [`Problem`].
//! - [`pipeline`]: the `pipelines:` section (what to fetch, which model, how fields are written).
//! - [`paths`]: relative paths in the file are read from the file's folder.

pub mod error;
pub mod paths;
pub mod pipeline;
pub mod serve;
pub mod template;

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use serde_json::{Map, Value};

pub use error::{ConfigError, Problem};
pub use paths::ConfigPaths;
pub use pipeline::{FieldAction, FieldRule, PipelineConfig, RawPipeline};
pub use serve::ServeConfig;
use template::EnvLookup;

/// Where `otai` looks for its configuration unless told otherwise (`--config`, `OTAI_CONFIG`).
pub const DEFAULT_CONFIG_PATH: &str = "config/config.yml";
/// Where `otai` looks for plugins unless told otherwise (`plugins_dir:`, `--plugins-dir`).
pub const DEFAULT_PLUGINS_DIR: &str = "plugins";
/// How long one call into a plugin may take unless `call_timeout:` says otherwise. Generous,
/// because one `find_tickets` may follow many pages.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest `call_timeout:` accepted; more is almost certainly a unit mistake.
const MAX_CALL_TIMEOUT_SECS: f64 = 24.0 * 3600.0;

/// The configuration file as written. Unknown keys anywhere are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Directory of plugin `.so` files, relative to the configuration file's folder.
    #[serde(default)]
    pub plugins_dir: Option<String>,
    /// The ONNX Runtime library (`libonnxruntime.so`), relative to the configuration file's
    /// folder; unset: `ORT_DYLIB_PATH` or the search next to the executable.
    #[serde(default)]
    pub onnxruntime: Option<String>,
    /// Help desks by the name the rest of the configuration refers to them with.
    #[serde(default)]
    pub ticket_systems: BTreeMap<String, RawTicketSystem>,
    /// What `otai run` does, by a name of the user's choice.
    #[serde(default)]
    pub pipelines: BTreeMap<String, RawPipeline>,
    /// How `otai serve` listens.
    #[serde(default)]
    pub serve: Option<serve::RawServe>,
}

/// One entry under `ticket_systems:` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTicketSystem {
    /// `<plugin>:<Service>`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Passed to the plugin as a JSON object; the plugin validates it.
    #[serde(default)]
    pub params: Option<Map<String, Value>>,
    /// Seconds one call into the plugin may take.
    #[serde(default)]
    pub call_timeout: Option<f64>,
}

impl fmt::Debug for RawTicketSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawTicketSystem")
            .field("use", &self.use_)
            .field("params", &ParamKeys(self.params.as_ref()))
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// A validated configuration with every template rendered.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from, for error messages.
    pub file: PathBuf,
    /// `plugins_dir:` if set, resolved from the file's folder; see [`resolve_plugins_dir`].
    pub plugins_dir: Option<PathBuf>,
    /// `onnxruntime:` if set, resolved from the file's folder.
    pub onnxruntime: Option<PathBuf>,
    pub ticket_systems: BTreeMap<String, TicketSystemConfig>,
    /// `pipelines:`, validated except against their models (see [`crate::pipeline`]).
    pub pipelines: BTreeMap<String, PipelineConfig>,
    /// `serve:`, with its defaults when left out.
    pub serve: ServeConfig,
}

/// One configured help desk: which plugin service to construct and with what.
#[derive(Clone)]
pub struct TicketSystemConfig {
    /// The key under `ticket_systems:`.
    pub name: String,
    /// The plugin name before the colon of `use:`.
    pub plugin: String,
    /// The service name after the colon of `use:`.
    pub service: String,
    /// Rendered params; private because they hold secrets. See [`Self::params_json`].
    params: Map<String, Value>,
    pub call_timeout: Duration,
}

impl TicketSystemConfig {
    /// Builds one in code (tests, embedding); `params` must be a JSON object.
    pub fn new(
        name: &str,
        plugin: &str,
        service: &str,
        params: Map<String, Value>,
        call_timeout: Duration,
    ) -> Self {
        TicketSystemConfig {
            name: name.to_string(),
            plugin: plugin.to_string(),
            service: service.to_string(),
            params,
            call_timeout,
        }
    }

    /// `<plugin>:<Service>`, as written after `use:`.
    pub fn use_spec(&self) -> String {
        format!("{}:{}", self.plugin, self.service)
    }

    /// Where this entry lives in the file, e.g. `ticket_systems.zendesk`.
    pub fn key_path(&self) -> String {
        format!("ticket_systems.{}", self.name)
    }

    /// The params as the JSON object handed to the plugin. Holds secrets: never log it.
    pub fn params_json(&self) -> String {
        Value::Object(self.params.clone()).to_string()
    }

    /// The names of the params, which are safe to show.
    pub fn param_keys(&self) -> impl Iterator<Item = &str> {
        self.params.keys().map(String::as_str)
    }
}

impl fmt::Debug for TicketSystemConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketSystemConfig")
            .field("name", &self.name)
            .field("use", &self.use_spec())
            .field("params", &ParamKeys(Some(&self.params)))
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// Shows params as `{api_token: <redacted>, ...}`: keys help debugging, values may be secrets.
struct ParamKeys<'a>(Option<&'a Map<String, Value>>);

impl fmt::Debug for ParamKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for key in self.0.into_iter().flat_map(|params| params.keys()) {
            map.entry(&format_args!("{key}"), &format_args!("<redacted>"));
        }
        map.finish()
    }
}

impl Config {
    /// Reads, renders and validates the configuration file at `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = read(file)?;
        Config::parse(&text, file, &template::process_env)
    }

    /// Parses configuration text; `file` is only used in error messages.
    pub fn parse(text: &str, file: &Path, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
        let invalid = |problems| ConfigError::Invalid {
            file: file.to_path_buf(),
            problems,
        };
        // Step 1: structure, unknown keys and types, with lines.
        RawConfig::parse(text, file)?;
        // Step 2: templates, on the YAML tree so that every section is covered.
        let mut tree: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| invalid(vec![yaml_problem("", &e)]))?;
        let problems = template::render_tree(&mut tree, env);
        if !problems.is_empty() {
            return Err(invalid(
                problems
                    .into_iter()
                    .map(|p| Problem::new(p.key_path, p.error.to_string()))
                    .collect(),
            ));
        }
        // Step 3: rendering only replaces strings by strings, so this cannot meet new type errors,
        // but it reports them properly anyway.
        let raw: RawConfig = if tree.is_null() {
            RawConfig::default()
        } else {
            serde_path_to_error::deserialize(tree).map_err(|e| invalid(vec![path_problem(&e)]))?
        };
        raw.validate(file)
    }
}

impl RawConfig {
    /// Step 1 of loading: the file's structure, without rendering templates. `otai plugins list`
    /// uses this alone to find `plugins_dir:` without needing every secret to be set.
    pub fn parse(text: &str, file: &Path) -> Result<RawConfig, ConfigError> {
        let deserializer = serde_yaml::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer).map_err(|e| ConfigError::Invalid {
            file: file.to_path_buf(),
            problems: vec![path_problem(&e)],
        })
    }

    /// Reads the file at `file` and runs [`RawConfig::parse`].
    pub fn load(file: &Path) -> Result<RawConfig, ConfigError> {
        RawConfig::parse(&read(file)?, file)
    }

    /// `plugins_dir:` with its template rendered and resolved from the file's folder, if set.
    pub fn rendered_plugins_dir(&self, file: &Path) -> Result<Option<PathBuf>, ConfigError> {
        let Some(dir) = &self.plugins_dir else {
            return Ok(None);
        };
        let invalid = |problems| ConfigError::Invalid {
            file: file.to_path_buf(),
            problems,
        };
        let rendered = template::render_str(dir, &template::process_env)
            .map_err(|e| invalid(vec![Problem::new("plugins_dir", e.to_string())]))?;
        ConfigPaths::new(file)
            .resolve("plugins_dir", &rendered)
            .map(Some)
            .map_err(|problem| invalid(vec![problem]))
    }

    fn validate(self, file: &Path) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let paths = ConfigPaths::new(file);
        let mut path = |key: &str, written: Option<&str>, when_left_out: &str| match written {
            Some("") => {
                problems.push(Problem::new(
                    key,
                    format!("must not be empty; leave it out to {when_left_out}"),
                ));
                None
            }
            Some(written) => paths
                .resolve(key, written)
                .map_err(|problem| problems.push(problem))
                .ok(),
            None => None,
        };
        let plugins_dir = path(
            "plugins_dir",
            self.plugins_dir.as_deref(),
            "use `plugins` in the working directory",
        );
        let onnxruntime = path(
            "onnxruntime",
            self.onnxruntime.as_deref(),
            "search next to the executable",
        );
        // Every name written, valid or not, so a pipeline naming a broken system is not also
        // reported as naming an unknown one.
        let system_names: Vec<String> = self.ticket_systems.keys().cloned().collect();
        let mut ticket_systems = BTreeMap::new();
        for (name, raw) in self.ticket_systems {
            let key = format!("ticket_systems.{name}");
            if name.trim().is_empty() {
                problems.push(Problem::new(&key, "a ticket system needs a non-empty name"));
                continue;
            }
            let use_ = match parse_use(&raw.use_) {
                Some(use_) => use_,
                None => {
                    problems.push(Problem::new(
                        format!("{key}.use"),
                        "must be `<plugin>:<Service>`, e.g. `otai_zendesk:ZendeskTicketsystemService`",
                    ));
                    continue;
                }
            };
            let call_timeout = match raw.call_timeout {
                None => DEFAULT_CALL_TIMEOUT,
                Some(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_CALL_TIMEOUT_SECS => {
                    Duration::from_secs_f64(secs)
                }
                Some(_) => {
                    problems.push(Problem::new(
                        format!("{key}.call_timeout"),
                        format!("must be a number of seconds greater than 0 and at most {MAX_CALL_TIMEOUT_SECS}"),
                    ));
                    continue;
                }
            };
            let system = TicketSystemConfig::new(
                &name,
                use_.0,
                use_.1,
                raw.params.unwrap_or_default(),
                call_timeout,
            );
            ticket_systems.insert(name, system);
        }
        let known: Vec<&str> = system_names.iter().map(String::as_str).collect();
        let mut pipelines = BTreeMap::new();
        for (name, raw) in self.pipelines {
            if let Some(pipeline) = raw.validate(&name, &known, &paths, &mut problems) {
                pipelines.insert(name, pipeline);
            }
        }
        let serve = self
            .serve
            .unwrap_or_default()
            .validate(&paths, &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError::Invalid {
                file: file.to_path_buf(),
                problems,
            });
        }
        Ok(Config {
            file: file.to_path_buf(),
            plugins_dir,
            onnxruntime,
            ticket_systems,
            pipelines,
            serve,
        })
    }
}

/// The plugins directory: the `--plugins-dir` flag wins over `plugins_dir:`, which wins over
/// [`DEFAULT_PLUGINS_DIR`] in the working directory. `configured` is already resolved from the
/// configuration file's folder ([`ConfigPaths`]); a relative flag is the working directory's.
pub fn resolve_plugins_dir(flag: Option<&Path>, configured: Option<&Path>) -> PathBuf {
    flag.or(configured)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PLUGINS_DIR))
}

fn read(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|error| ConfigError::Read {
        file: file.to_path_buf(),
        error,
    })
}

fn parse_use(spec: &str) -> Option<(&str, &str)> {
    let (plugin, service) = spec.split_once(':')?;
    let valid = |s: &str| !s.is_empty() && !s.contains(':') && !s.chars().any(char::is_whitespace);
    (valid(plugin) && valid(service)).then_some((plugin, service))
}

fn path_problem<E: YamlLike>(err: &serde_path_to_error::Error<E>) -> Problem {
    let path = err.path().to_string();
    let path = if path == "." { String::new() } else { path };
    yaml_problem(&path, err.inner())
}

/// Both deserializers' errors: serde_yaml's from text (with a location) and from a tree.
trait YamlLike: fmt::Display {
    fn location(&self) -> Option<(usize, usize)>;
}

impl YamlLike for serde_yaml::Error {
    fn location(&self) -> Option<(usize, usize)> {
        serde_yaml::Error::location(self).map(|l| (l.line(), l.column()))
    }
}

/// serde_yaml's message carries its own path prefix and `at line N column M` suffix; both are
/// stripped so the problem shows the (more precise) key path and the location once.
fn yaml_problem(key_path: &str, err: &impl YamlLike) -> Problem {
    let mut message = err.to_string();
    let location = err.location();
    if let Some((line, column)) = location {
        if let Some(stripped) = message.strip_suffix(&format!(" at line {line} column {column}")) {
            message = stripped.to_string();
        }
    }
    let mut prefix = key_path;
    while !prefix.is_empty() {
        if let Some(stripped) = message.strip_prefix(&format!("{prefix}: ")) {
            message = stripped.to_string();
            break;
        }
        prefix = prefix.rsplit_once('.').map_or("", |(parent, _)| parent);
    }
    Problem {
        key_path: key_path.to_string(),
        message,
        location,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../config/seed-example.yml");
    const EXAMPLE: &str = include_str!("../../config/config.example.yml");
    const ZAMMAD_EXAMPLE: &str = include_str!("../../config/zammad.example.yml");
    const ZAMMAD_DEMO: &str = include_str!("../../config/demo-zammad.yml");
    const OTOBO_EXAMPLE: &str = include_str!("../../config/otobo.example.yml");
    const OTOBO_DEMO: &str = include_str!("../../config/demo-otobo.yml");

    fn env_with_token(name: &str) -> Result<Option<String>, template::NotUnicode> {
        Ok(matches!(name, "ZENDESK_API_TOKEN" | "ZENDESK_OAUTH_SECRET")
            .then(|| "tok-SECRET-123".to_string()))
    }

    fn no_env(_: &str) -> Result<Option<String>, template::NotUnicode> {
        Ok(None)
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.yml"), &env_with_token)
    }

    #[test]
    fn seed_example_loads_unchanged() {
        let config = parse(SEED).unwrap();
        let zendesk = &config.ticket_systems["zendesk"];
        assert_eq!(zendesk.plugin, "otai_zendesk");
        assert_eq!(zendesk.service, "ZendeskTicketsystemService");
        assert_eq!(zendesk.call_timeout, DEFAULT_CALL_TIMEOUT);
        let params: Value = serde_json::from_str(&zendesk.params_json()).unwrap();
        assert_eq!(
            params,
            serde_json::json!({
                "domain": "yourcompany",
                "email": "support@yourcompany.com",
                "api_token": "tok-SECRET-123",
                "timeout": 10,
                "verify": true
            })
        );
        assert_eq!(config.plugins_dir, None);
    }

    #[test]
    fn example_config_loads() {
        let config = parse(EXAMPLE).unwrap();
        assert!(config.ticket_systems.contains_key("zendesk"));
        let demo = &config.pipelines["banking77-demo"];
        assert_eq!(demo.ticket_system, "zendesk");
        let fields: Vec<&str> = demo.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["queue", "priority", "intent"], "file order");
    }

    #[test]
    fn fetch_limit_is_bounded_so_a_pass_fits_in_memory() {
        let text = "ticket_systems: {z: {use: \"p:S\"}}\npipelines:\n  main:\n    ticket_system: z\n    fetch: {limit: 10001}\n    fields: {queue: {action: tag}}\n";
        let err = Config::parse(text, Path::new("t.yml"), &no_env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pipelines.main.fetch.limit"), "{err}");
        assert!(err.contains("between 1 and 10000"), "{err}");
        let ok = text.replace("10001", "10000");
        assert!(Config::parse(&ok, Path::new("t.yml"), &no_env).is_ok());
    }

    #[test]
    fn the_examples_zendesk_params_are_what_the_adapter_accepts_oauth_first() {
        let example = parse(EXAMPLE).unwrap().ticket_systems["zendesk"].params_json();
        let seed = parse(SEED).unwrap().ticket_systems["zendesk"].params_json();

        let example = otai_zendesk::Config::from_json(&example).unwrap();
        let seed = otai_zendesk::Config::from_json(&seed).unwrap();

        assert_eq!(example.auth.describe(), "oauth (client `otai`)");
        assert_eq!(seed.auth.describe(), "api_token (support@yourcompany.com)");
    }

    #[test]
    fn the_zammad_examples_load_and_treat_the_default_group_as_inbox() {
        let env = |name: &str| -> Result<Option<String>, template::NotUnicode> {
            Ok(match name {
                "ZAMMAD_TOKEN" => Some("tok-SECRET-123".into()),
                // The demo's simulator on this machine.
                "OTAI_DEMO_ZAMMAD_URL" => Some("http://127.0.0.1:3000".into()),
                _ => None,
            })
        };
        for (name, text) in [("example", ZAMMAD_EXAMPLE), ("demo", ZAMMAD_DEMO)] {
            let config = Config::parse(text, Path::new(name), &env)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let zammad = &config.ticket_systems["zammad"];
            assert_eq!(
                (zammad.plugin.as_str(), zammad.service.as_str()),
                ("otai_zammad", "ZammadTicketsystemService")
            );
            let pipeline = config.pipelines.values().next().unwrap();
            assert!(pipeline.skip_routed, "{name}");
            assert!(
                pipeline.inbox_queues.iter().any(|q| q == "Users"),
                "{name}: every Zammad ticket has a group; the default one is the inbox"
            );
        }
    }

    #[test]
    fn the_otobo_examples_load_and_name_their_inbox_queues() {
        let env = |name: &str| -> Result<Option<String>, template::NotUnicode> {
            Ok(match name {
                "OTOBO_PASSWORD" => Some("pw".into()),
                "OTAI_DEMO_OTOBO_URL" => {
                    Some("http://127.0.0.1:3000/otobo/nph-genericinterface.pl/Webservice/X".into())
                }
                _ => None,
            })
        };
        for (name, text) in [("example", OTOBO_EXAMPLE), ("demo", OTOBO_DEMO)] {
            let config = Config::parse(text, Path::new(name), &env)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let otobo = &config.ticket_systems["otobo"];
            assert_eq!(
                (otobo.plugin.as_str(), otobo.service.as_str()),
                ("otai_otobo_znuny", "OTOBOZnunyTicketSystemService")
            );
            let pipeline = config.pipelines.values().next().unwrap();
            assert!(
                pipeline.inbox_queues.iter().any(|q| q == "Raw"),
                "{name}: every ticket has a queue; new mail lands in Raw"
            );
        }
    }

    #[test]
    fn templates_render_from_the_process_environment() {
        // A name no other test or machine uses, so setting it cannot interfere.
        std::env::set_var("OTAI_TEST_CONFIG_TEMPLATE_7F3A", "from-env");
        let text = "plugins_dir: \"{{ get_env('OTAI_TEST_CONFIG_TEMPLATE_7F3A') }}/plugins\"\n\
                    ticket_systems:\n  z:\n    use: p:S\n    params:\n      nested:\n        list: ['{{get_env(\"OTAI_TEST_CONFIG_TEMPLATE_7F3A\")}}']\n      dflt: \"{{ get_env('OTAI_TEST_UNSET_9C1E', 'fallback') }}\"\n";
        let config = Config::load_from_text_for_test(text);
        let here = std::env::current_dir().unwrap();
        assert_eq!(config.plugins_dir, Some(here.join("from-env/plugins")));
        let params: Value =
            serde_json::from_str(&config.ticket_systems["z"].params_json()).unwrap();
        assert_eq!(params["nested"]["list"][0], "from-env");
        assert_eq!(params["dflt"], "fallback");
    }

    impl Config {
        fn load_from_text_for_test(text: &str) -> Config {
            Config::parse(text, Path::new("t.yml"), &template::process_env).unwrap()
        }
    }

    #[test]
    fn unset_variable_names_variable_key_path_and_file_but_no_value() {
        let err = Config::parse(SEED, Path::new("conf/x.yml"), &no_env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("conf/x.yml"), "{err}");
        assert!(err.contains("ZENDESK_API_TOKEN"), "{err}");
        assert!(
            err.contains("ticket_systems.zendesk.params.api_token"),
            "{err}"
        );
        assert!(!err.contains("yourcompany"), "{err}");
    }

    #[test]
    fn every_template_problem_is_listed() {
        let text = "ticket_systems:\n  a:\n    use: p:S\n    params:\n      x: \"{{ get_env('NOPE_1') }}\"\n      y: \"{{ secret_literal }}\"\n";
        let err = Config::parse(text, Path::new("t.yml"), &no_env).unwrap_err();
        let problems = err.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("ticket_systems.a.params.x") && problems[0].contains("NOPE_1")
        );
        assert!(
            problems[1].contains("ticket_systems.a.params.y")
                && problems[1].contains("unsupported template")
        );
        assert!(!err.to_string().contains("secret_literal"));
    }

    #[test]
    fn unknown_key_names_key_path_line_and_file() {
        let text = "ticket_systems:\n  zendesk:\n    use: otai_zendesk:ZendeskTicketsystemService\n    parms: {}\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("test.yml"), "{err}");
        assert!(err.contains("ticket_systems.zendesk.parms"), "{err}");
        assert!(err.contains("unknown field `parms`"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn unknown_top_level_key_is_an_error() {
        let err = parse("plugin_dir: x\n").unwrap_err().to_string();
        assert!(
            err.contains("plugin_dir") && err.contains("line 1"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_names_key_path() {
        let err = parse("ticket_systems:\n  z:\n    use: p:S\n    call_timeout: soon\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ticket_systems.z.call_timeout") && err.contains("line 4"),
            "{err}"
        );
    }

    #[test]
    fn malformed_use_and_timeout_are_listed_together() {
        let text =
            "ticket_systems:\n  a:\n    use: no_colon\n  b:\n    use: p:S\n    call_timeout: 0\n";
        let err = parse(text).unwrap_err();
        let problems = err.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("ticket_systems.a.use"));
        assert!(problems[1].contains("ticket_systems.b.call_timeout"));
    }

    #[test]
    fn call_timeout_accepts_fractions() {
        let config = parse("ticket_systems:\n  a:\n    use: p:S\n    call_timeout: 1.5\n").unwrap();
        assert_eq!(
            config.ticket_systems["a"].call_timeout,
            Duration::from_millis(1500)
        );
        assert_eq!(config.ticket_systems["a"].params_json(), "{}");
    }

    #[test]
    fn empty_file_is_an_empty_config() {
        let config = parse("").unwrap();
        assert!(config.ticket_systems.is_empty());
    }

    #[test]
    fn debug_shows_param_keys_but_no_secret() {
        let config = parse(SEED).unwrap();
        let debug = format!("{config:?}");
        assert!(debug.contains("api_token"), "{debug}");
        assert!(!debug.contains("tok-SECRET-123"), "{debug}");
        let raw = RawConfig::parse(SEED, Path::new("x")).unwrap();
        assert!(!format!("{raw:?}").contains("get_env"));
    }

    #[test]
    fn plugins_dir_resolution_prefers_flag_then_config() {
        let flag = Path::new("/flag");
        let configured = Path::new("conf");
        assert_eq!(
            resolve_plugins_dir(Some(flag), Some(configured)),
            PathBuf::from("/flag")
        );
        assert_eq!(
            resolve_plugins_dir(None, Some(configured)),
            PathBuf::from("conf")
        );
        assert_eq!(resolve_plugins_dir(None, None), PathBuf::from("plugins"));
    }

    #[test]
    fn paths_in_the_file_are_read_from_its_folder_and_defaults_from_the_working_directory() {
        let text = "plugins_dir: plugins\nonnxruntime: lib/libonnxruntime.so\n\
                    ticket_systems: {z: {use: \"p:S\"}}\n\
                    pipelines:\n  \
                      written: {ticket_system: z, model: m, state_file: s/w.json, \
                                audit_log: /var/log/otai/w.jsonl, fields: {queue: {action: tag}}}\n  \
                      defaults: {ticket_system: z, fields: {queue: {action: tag}}}\n";
        let config = Config::parse(text, Path::new("/etc/otai/otai.yml"), &no_env).unwrap();
        let etc = Path::new("/etc/otai");
        assert_eq!(config.plugins_dir, Some(etc.join("plugins")));
        assert_eq!(config.onnxruntime, Some(etc.join("lib/libonnxruntime.so")));
        let written = &config.pipelines["written"];
        assert_eq!(written.model, etc.join("m"));
        assert_eq!(written.state_file, Some(etc.join("s/w.json")));
        assert_eq!(
            written.audit_log,
            Some(PathBuf::from("/var/log/otai/w.jsonl"))
        );
        let defaults = &config.pipelines["defaults"];
        assert_eq!(defaults.model, PathBuf::from("models/banking77"));
        assert_eq!(
            defaults.state_file,
            Some(PathBuf::from(".otai/state/defaults.json"))
        );
        let raw = RawConfig::parse(text, Path::new("/etc/otai/otai.yml")).unwrap();
        assert_eq!(
            raw.rendered_plugins_dir(Path::new("/etc/otai/otai.yml"))
                .unwrap(),
            Some(etc.join("plugins"))
        );
    }

    #[test]
    fn a_plugins_dir_only_the_working_directory_has_is_an_error_naming_both() {
        // `cargo test` runs in the crate's folder, which has `src`; the file's folder does not.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("otai.yml");
        let err = Config::parse("plugins_dir: src\n", &file, &no_env).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(
            text.contains("plugins_dir: `src` is read relative to the configuration file's folder"),
            "{text}"
        );
        let err = RawConfig::parse("plugins_dir: src\n", &file)
            .unwrap()
            .rendered_plugins_dir(&file)
            .unwrap_err();
        assert!(err.to_string().contains("plugins_dir: `src`"), "{err}");
    }

    #[test]
    fn missing_file_names_it() {
        let err = Config::load(Path::new("/nonexistent/otai.yml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/otai.yml"), "{err}");
    }
}
