//! A project's components as inputs to check, compose and graph: written once, so that every
//! stage reads the same files and says the same thing about one that is not built yet.

use std::path::PathBuf;

use super::{ComposeError, Input, ScriptDep};
use crate::project::{Component, Lang, Plan, ScriptSource, Wiring};

/// How a project's components come together.
#[derive(Debug, Clone)]
pub enum ProjectInputs {
    /// `[compose]` with a root and plugs.
    Plug {
        /// The root.
        root: Input,
        /// The plugs.
        plugs: Vec<Input>,
    },
    /// `[compose]` with a WAC script.
    Script {
        /// The script.
        path: PathBuf,
        /// Its packages and the components that provide them.
        deps: Vec<ScriptDep>,
    },
    /// No `[compose]`: every component, each checked against the others.
    All(Vec<Input>),
}

impl ProjectInputs {
    /// The inputs `plan` composes; an error names the first component that is not built yet.
    pub fn of(plan: &Plan) -> Result<ProjectInputs, ComposeError> {
        let input = |name: &String| -> Result<Input, ComposeError> {
            let c = plan
                .component(name)
                .expect("a validated plan's wiring names its components");
            component_input(c)
        };
        Ok(match plan.compose.as_ref().map(|c| &c.wiring) {
            Some(Wiring::Plug { root, plugs }) => ProjectInputs::Plug {
                root: input(root)?,
                plugs: plugs.iter().map(input).collect::<Result<_, _>>()?,
            },
            Some(Wiring::Script { path, deps }) => ProjectInputs::Script {
                path: path.clone(),
                deps: deps
                    .iter()
                    .map(|(package, source)| {
                        Ok(ScriptDep {
                            package: package.clone(),
                            input: match source {
                                ScriptSource::Component(component) => input(component)?,
                                ScriptSource::Wit { dir } => Input {
                                    name: package.clone(),
                                    path: dir.clone(),
                                },
                            },
                        })
                    })
                    .collect::<Result<_, ComposeError>>()?,
            },
            None => ProjectInputs::All(
                plan.components
                    .iter()
                    .map(component_input)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// Every input, in order (root first).
    pub fn all(&self) -> Vec<&Input> {
        match self {
            ProjectInputs::Plug { root, plugs } => std::iter::once(root).chain(plugs).collect(),
            ProjectInputs::Script { deps, .. } => deps
                .iter()
                .filter(|d| !d.is_wit())
                .map(|d| &d.input)
                .collect(),
            ProjectInputs::All(inputs) => inputs.iter().collect(),
        }
    }

    /// The WIT package directories a WAC script's imports are typed by.
    pub fn wit_packages(&self) -> Vec<&Input> {
        match self {
            ProjectInputs::Script { deps, .. } => deps
                .iter()
                .filter(|d| d.is_wit())
                .map(|d| &d.input)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A component as an input: a prebuilt one where it is, a built one where the build put it.
fn component_input(c: &Component) -> Result<Input, ComposeError> {
    let path = match c.lang {
        Lang::Wasm => c.source.clone(),
        _ => c.output.clone(),
    };
    if !path.exists() {
        return Err(ComposeError::NotBuilt {
            name: c.name.clone(),
            path,
        });
    }
    Ok(Input {
        name: c.name.clone(),
        path,
    })
}
