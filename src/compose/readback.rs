//! What an encoded composition actually wires: its imports, and the instance given for each
//! instance argument of each instantiation. Read from the binary, so that what weld reports is
//! the file, whatever the encoder decided.

use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentName, ComponentTypeRef,
    KnownCustom, Payload,
};

/// A composition's wiring as encoded.
#[derive(Debug, Default)]
pub struct Encoded {
    /// The composition's instance imports, in order.
    pub imports: Vec<String>,
    /// The names of all its imports (instances, functions, ...; not types), in order.
    pub all_imports: Vec<String>,
    /// The names of its exports (not types), in order.
    pub exports: Vec<String>,
    /// Every instance argument of every instantiation.
    pub args: Vec<Arg>,
}

/// One instance argument of one instantiation.
#[derive(Debug)]
pub struct Arg {
    /// The instance being created, by its name in the component-name section.
    pub instance: String,
    /// The import of the instantiated component it satisfies.
    pub name: String,
    /// What it is given.
    pub source: Source,
}

/// What an argument is given.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// An import of the composition.
    Import(String),
    /// An export of (or the whole of) another instance, by its name.
    Instance(String),
}

/// Where an entry of the instance index space came from.
enum Entry {
    Import(String),
    Created,
    ExportOf(u32),
    Same(u32),
}

/// The wiring of the composition `bytes`; `None` when it does not parse.
pub fn read(bytes: &[u8]) -> Option<Encoded> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut created: Vec<(u32, Vec<(String, u32)>)> = Vec::new();
    let mut names = std::collections::HashMap::new();
    let mut imports = Vec::new();
    let mut all_imports = Vec::new();
    let mut exports = Vec::new();
    for item in crate::check::sections::top_level(bytes) {
        let (_, payload) = item.ok()?;
        match payload {
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.ok()?;
                    if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                        all_imports.push(import.name.name.to_string());
                    }
                    if let ComponentTypeRef::Instance(_) = import.ty {
                        imports.push(import.name.name.to_string());
                        entries.push(Entry::Import(import.name.name.to_string()));
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    if let ComponentInstance::Instantiate { args, .. } = instance.ok()? {
                        let args = args
                            .iter()
                            .filter(|a| a.kind == ComponentExternalKind::Instance)
                            .map(|a| (a.name.to_string(), a.index))
                            .collect();
                        created.push((entries.len() as u32, args));
                    }
                    entries.push(Entry::Created);
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    if let ComponentAlias::InstanceExport {
                        kind: ComponentExternalKind::Instance,
                        instance_index,
                        ..
                    } = alias.ok()?
                    {
                        entries.push(Entry::ExportOf(instance_index));
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.ok()?;
                    if export.kind != ComponentExternalKind::Type {
                        exports.push(export.name.name.to_string());
                    }
                    // Exporting an instance gives it a new index too.
                    if export.kind == ComponentExternalKind::Instance {
                        entries.push(Entry::Same(export.index));
                    }
                }
            }
            Payload::CustomSection(custom) => {
                if let KnownCustom::ComponentName(reader) = custom.as_known() {
                    for subsection in reader {
                        if let Ok(ComponentName::Instances(map)) = subsection {
                            for naming in map {
                                let naming = naming.ok()?;
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let name = |i: u32| names.get(&i).cloned().unwrap_or_else(|| format!("#{i}"));
    let mut args = Vec::new();
    for (instance, given) in created {
        for (arg, mut index) in given {
            // Follow re-exports to where the instance came from; bounded by the entries.
            let mut source = None;
            for _ in 0..=entries.len() {
                match entries.get(index as usize)? {
                    Entry::Import(import) => source = Some(Source::Import(import.clone())),
                    Entry::ExportOf(of) => source = Some(Source::Instance(name(*of))),
                    Entry::Created => source = Some(Source::Instance(name(index))),
                    Entry::Same(i) => {
                        index = *i;
                        continue;
                    }
                }
                break;
            }
            args.push(Arg {
                instance: name(instance),
                name: arg,
                source: source?,
            });
        }
    }
    Some(Encoded {
        imports,
        all_imports,
        exports,
        args,
    })
}
