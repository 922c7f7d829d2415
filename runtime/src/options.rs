//! For `#[derive(Objects)]` users, everything a load can set
//! ([`LoadOptions`]): how to open the object, and what to change between
//! open and load.

use std::sync::Arc;

use crate::cell::CellValue;
use crate::error::Result;
use crate::map::MapSpec;
use crate::object::{OpenObject, OpenOptions};
use crate::program::ProgramSpec;
use crate::Pod;

/// A change to a map's or program's spec.
type Setting<T> = Arc<dyn Fn(&mut T) + Send + Sync>;

/// A change made to the open object itself (struct_ops data, whose type
/// only the caller knows).
type ObjectSetting = Arc<dyn Fn(&mut OpenObject) -> Result<()> + Send + Sync>;

/// Settings for `Struct::load_with` of `#[derive(Objects)]`: how to open
/// the object, and what to change between open and load — map and program
/// settings, global variables (`.rodata` constants included) and struct_ops
/// data — applied after the struct's selection.
///
/// ```no_run
/// use ebpf_skeleton::{LoadOptions, OpenOptions};
///
/// let options = LoadOptions::new()
///     .max_entries("events", 1 << 20)
///     .map("stackmap", |m| m.value_size = 127 * 8)
///     .program("handle_exec", |p| p.log_level = 1)
///     .global("target_uid", &1000u32)
///     .open(OpenOptions::new().pin_root("/sys/fs/bpf/mytool"));
/// // let tracer = Tracer::load_with(options)?;
/// ```
#[derive(Clone, Default)]
pub struct LoadOptions {
    open: OpenOptions,
    maps: Vec<(String, Setting<MapSpec>)>,
    programs: Vec<(String, Setting<ProgramSpec>)>,
    globals: Vec<(String, Vec<u8>)>,
    struct_ops: Vec<(String, ObjectSetting)>,
    kernel_version: Option<u32>,
}

impl LoadOptions {
    /// Default settings: the object's own.
    pub fn new() -> Self {
        Self::default()
    }

    /// How to open the object.
    pub fn open(mut self, options: OpenOptions) -> Self {
        self.open = options;
        self
    }

    /// Sets the most entries of the map `map` (for a ring buffer, its size
    /// in bytes).
    pub fn max_entries(self, map: impl Into<String>, entries: u32) -> Self {
        self.map(map, move |spec| spec.max_entries = entries)
    }

    /// Changes the spec of the map `map` with `change`.
    pub fn map(
        mut self,
        map: impl Into<String>,
        change: impl Fn(&mut MapSpec) + Send + Sync + 'static,
    ) -> Self {
        self.maps.push((map.into(), Arc::new(change)));
        self
    }

    /// Changes the spec of the program `program` with `change`.
    pub fn program(
        mut self,
        program: impl Into<String>,
        change: impl Fn(&mut ProgramSpec) + Send + Sync + 'static,
    ) -> Self {
        self.programs.push((program.into(), Arc::new(change)));
        self
    }

    /// Sets the global variable `name` (of any data section, `.rodata`
    /// constants included) to `value`, which must have the variable's size
    /// (a C `bool` is set with a Rust `bool`).
    pub fn global<T: CellValue>(mut self, name: impl Into<String>, value: &T) -> Self {
        let bits = value.to_bits();
        self.globals.push((name.into(), bits.as_bytes().to_vec()));
        self
    }

    /// Changes the data of the struct_ops map `map` (a sched_ext
    /// scheduler's `.flags` or `.timeout_ms`, say), read as `T`, the struct
    /// `ebpf_skeleton!` generates for its C type (or one of the same size).
    /// Pointer members keep libbpf's values (see
    /// [`OpenObject::set_struct_ops_data`]).
    ///
    /// ```no_run
    /// # #[derive(Clone, Copy, ebpf_skeleton::Pod)] #[repr(C)] struct SchedExtOps { flags: u64 }
    /// let options = ebpf_skeleton::LoadOptions::new()
    ///     .struct_ops("minimal_ops", |ops: &mut SchedExtOps| ops.flags |= 1);
    /// ```
    pub fn struct_ops<T: Pod>(
        mut self,
        map: impl Into<String>,
        change: impl Fn(&mut T) + Send + Sync + 'static,
    ) -> Self {
        let map = map.into();
        let name = map.clone();
        let setting: ObjectSetting = Arc::new(move |object: &mut OpenObject| {
            let mut data: T = object.struct_ops_data(&name)?;
            change(&mut data);
            object.set_struct_ops_data(&name, &data)
        });
        self.struct_ops.push((map, setting));
        self
    }

    /// The kernel version the object declares (`LINUX_VERSION_CODE`), for
    /// kernels that check it on kprobe programs (before 5.0; later kernels
    /// ignore it). [`OpenObject::kernel_version`] reads it back.
    pub fn kernel_version(mut self, version: u32) -> Self {
        self.kernel_version = Some(version);
        self
    }

    /// Opens the embedded object `bytes` as these options say (what
    /// generated code calls).
    pub fn open_static(&self, name: &str, bytes: &'static [u8]) -> Result<OpenObject> {
        OpenObject::from_static_with(name, bytes, &self.open)
    }

    /// Applies the settings; a name the object lacks is an error.
    pub fn apply(&self, object: &mut OpenObject) -> Result<()> {
        for (map, change) in &self.maps {
            let mut spec = object.map_spec(map)?;
            change(&mut spec);
            object.apply_map(&spec)?;
        }
        for (program, change) in &self.programs {
            let mut spec = object.program_spec(program)?;
            change(&mut spec);
            object.apply_program(&spec)?;
        }
        for (name, bytes) in &self.globals {
            object.set_global_bytes(name, bytes)?;
        }
        for (_, change) in &self.struct_ops {
            change(object)?;
        }
        if let Some(version) = self.kernel_version {
            object.set_kernel_version(version)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn names<T>(settings: &[(String, T)]) -> Vec<&str> {
            settings.iter().map(|(name, _)| name.as_str()).collect()
        }
        f.debug_struct("LoadOptions")
            .field("open", &self.open)
            .field("maps", &names(&self.maps))
            .field("programs", &names(&self.programs))
            .field("globals", &names(&self.globals))
            .field("struct_ops", &names(&self.struct_ops))
            .field("kernel_version", &self.kernel_version)
            .finish()
    }
}
