//! eBPF objects: opened (parsed, nothing in the kernel) and loaded.
//!
//! This module composes the others: it owns the libbpf object (through
//! [`ObjectHandle`]) and hands out maps, programs and sections of it.

mod elf_instructions;
mod globals;
mod load;
mod open_options;

pub use open_options::OpenOptions;

use std::collections::HashMap;
use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use crate::cell::CellValue;
use crate::error::{Error, Kind, Result};
use crate::global::{Section, SectionData, SectionView};
use crate::handle::ObjectHandle;
use crate::libbpf::find_section;
use crate::link::Links;
use crate::map::{Map, MapSpec};
use crate::os::errno::{check, last_error};
use crate::program::{Program, ProgramSpec};
use crate::struct_ops::StructOps;
use crate::{print, section, Pod};

/// An eBPF object parsed by libbpf but not yet in the kernel.
///
/// Opening needs no privileges. What must be decided before load (which
/// programs load, map sizes) is set through [`ProgramSpec`] and [`MapSpec`];
/// [`OpenObject::load`] then creates the maps and loads the programs.
pub struct OpenObject {
    handle: ObjectHandle,
    /// What the spec of each program applied set for its load.
    applied: HashMap<String, load::Applied>,
    /// Descriptors libbpf holds without duplicating them (inner maps,
    /// freplace targets), kept open until load.
    kept_fds: Vec<Arc<OwnedFd>>,
    /// The object file, for what libbpf does not say (where a program's
    /// instructions are relocated).
    elf: Elf,
}

/// An object file's bytes: embedded, or read at run time.
enum Elf {
    Static(&'static [u8]),
    Shared(Arc<[u8]>),
}

impl Elf {
    fn bytes(&self) -> &[u8] {
        match self {
            Elf::Static(bytes) => bytes,
            Elf::Shared(bytes) => bytes,
        }
    }
}

impl OpenObject {
    /// Opens an object from bytes that live for the whole program, such as
    /// the ones `ebpf_skeleton!` embeds.
    pub fn from_static(name: &str, bytes: &'static [u8]) -> Result<Self> {
        Self::from_static_with(name, bytes, &OpenOptions::default())
    }

    /// Like [`OpenObject::from_static`], opened as `options` say.
    pub fn from_static_with(
        name: &str,
        bytes: &'static [u8],
        options: &OpenOptions,
    ) -> Result<Self> {
        Self::open(name, Elf::Static(bytes), options)
    }

    /// Opens an object file from disk. The file is read whole first, so
    /// that a path that is not a readable file (a directory, say) is a plain
    /// error.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_file_with(path, &OpenOptions::default())
    }

    /// Like [`OpenObject::from_file`], opened as `options` say.
    pub fn from_file_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        let name = object_name(path);
        let bytes = std::fs::read(path).map_err(|source| Error::Open {
            object: name.clone(),
            source,
            details: format!("reading {}", path.display()),
        })?;
        Self::from_bytes_with(&name, bytes, options)
    }

    /// Opens an object from bytes in memory, which it keeps.
    pub fn from_bytes(name: &str, bytes: impl Into<Box<[u8]>>) -> Result<Self> {
        Self::from_bytes_with(name, bytes, &OpenOptions::default())
    }

    /// Like [`OpenObject::from_bytes`], opened as `options` say.
    pub fn from_bytes_with(
        name: &str,
        bytes: impl Into<Box<[u8]>>,
        options: &OpenOptions,
    ) -> Result<Self> {
        let bytes: Box<[u8]> = bytes.into();
        Self::open(name, Elf::Shared(bytes.into()), options)
    }

    /// Opens the object file `elf`, whose bytes stay valid as long as the
    /// object: they are `'static`, or shared with the handle (their heap
    /// memory does not move).
    fn open(name: &str, elf: Elf, options: &OpenOptions) -> Result<Self> {
        let (bytes, len) = (elf.bytes().as_ptr(), elf.bytes().len());
        let keep = match &elf {
            Elf::Static(_) => None,
            Elf::Shared(bytes) => Some(bytes.clone()),
        };
        let open_error = |source, details| Error::Open {
            object: name.to_owned(),
            source,
            details,
        };
        let c_name = CString::new(name)
            .map_err(|_| open_error(einval(), "the object's name holds a NUL byte".to_owned()))?;
        let [pin_root, kernel_btf, kconfig] = options.c_strings()?;
        let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        let opts = sys::bpf_object_open_opts {
            sz: size_of::<sys::bpf_object_open_opts>() as _,
            object_name: c_name.as_ptr(),
            pin_root_path: ptr(&pin_root),
            btf_custom_path: ptr(&kernel_btf),
            kconfig: ptr(&kconfig),
            ..Default::default()
        };
        // SAFETY: `bytes` stays valid as long as the object (see above); the
        // options and the name outlive the call.
        let (ptr, warnings) =
            print::capture(|| unsafe { sys::bpf_object__open_mem(bytes.cast(), len as _, &opts) });
        let ptr = NonNull::new(ptr).ok_or_else(|| open_error(last_error(), warnings.join("\n")))?;
        Ok(OpenObject {
            handle: ObjectHandle::new(ptr, name.to_owned(), keep),
            elf,
            applied: HashMap::new(),
            kept_fds: Vec::new(),
        })
    }

    /// The object's name (for embedded objects, the module's name).
    pub fn name(&self) -> &str {
        self.handle.name()
    }

    /// The names of the object's programs, in section order.
    pub fn program_names(&self) -> Vec<String> {
        self.handle.programs().map(|(n, _)| n.to_owned()).collect()
    }

    /// The names of the object's maps, data sections (`.bss`, `.rodata`, ...)
    /// included under libbpf's names for them.
    pub fn map_names(&self) -> Vec<String> {
        self.handle.maps().map(|(n, _)| n.to_owned()).collect()
    }

    /// The current settings of the program `name`, and its instructions
    /// as the object holds them ([`ProgramSpec::instructions`]).
    pub fn program_spec(&self, name: &str) -> Result<ProgramSpec> {
        let prog = self.find_program(name)?;
        let section = crate::libbpf::program_section(prog.as_ptr());
        let instructions = elf_instructions::program_instructions(self.elf.bytes(), &section, name)
            .map_err(|problem| Error::Open {
                object: self.name().to_owned(),
                source: einval(),
                details: format!("reading the instructions of program `{name}`: {problem}"),
            })?;
        Ok(ProgramSpec::read(prog, instructions))
    }

    /// The current settings of the map `name`.
    pub fn map_spec(&self, name: &str) -> Result<MapSpec> {
        Ok(MapSpec::read(self.find_map(name)?))
    }

    /// Applies a program's settings before load.
    pub fn apply_program(&mut self, spec: &ProgramSpec) -> Result<()> {
        spec.apply(self.find_program(spec.name())?)?;
        let applied = load::Applied {
            log_size: spec.log_size,
            device: spec.device,
        };
        self.applied.insert(spec.name().to_owned(), applied);
        self.kept_fds.extend(spec.kept_fds());
        Ok(())
    }

    /// Applies a map's settings before load.
    pub fn apply_map(&mut self, spec: &MapSpec) -> Result<()> {
        spec.apply(self.find_map(spec.name())?)?;
        self.kept_fds.extend(spec.kept_fds());
        Ok(())
    }

    /// The initial value of the data section `section` (`.rodata`,
    /// `.data.stats`, ...), as the struct the skeleton generated for it.
    pub fn section_data<T: SectionData>(&self, section: &str) -> Result<T> {
        self.section_data_boxed(section).map(|value| *value)
    }

    /// Like [`OpenObject::section_data`], on the heap: the value is never on
    /// the stack, however large the section (what generated `Specs` hold).
    pub fn section_data_boxed<T: SectionData>(&self, section: &str) -> Result<Box<T>> {
        let map = self.find_section(section)?;
        let mut size = 0usize;
        // SAFETY: `map` is an internal map of this open object.
        let ptr =
            unsafe { sys::bpf_map__initial_value(map.as_ptr(), (&mut size as *mut usize).cast()) };
        if ptr.is_null() {
            return Err(self.not_found(Kind::Map, section));
        }
        // SAFETY: libbpf returns the map's initial value, `size` bytes long,
        // valid while the object is open and unchanged during this borrow
        // (changing it takes `&mut self`).
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), size) };
        crate::global::read_plain(bytes, section)
    }

    /// Sets what the data section `section` holds when the object loads:
    /// what the verifier sees for `.rodata`, and the starting values of
    /// `.data` and `.bss`.
    pub fn set_section_data<T: SectionData>(&mut self, section: &str, value: &T) -> Result<()> {
        let map = self.find_section(section)?;
        // SAFETY: `map` is a map of this open object.
        let len = unsafe { sys::bpf_map__value_size(map.as_ptr()) } as usize;
        let bytes = crate::global::plain_bytes(value, len, section)?;
        // SAFETY: `map` is an internal map of this open, unloaded object;
        // libbpf copies the bytes and checks their size.
        let ret = unsafe {
            sys::bpf_map__set_initial_value(map.as_ptr(), bytes.as_ptr().cast(), bytes.len() as _)
        };
        configured(ret, "initial value", Kind::Map, section)
    }

    /// The data of the struct_ops map `name` (`.name`, `.flags`, a
    /// sched_ext scheduler's `.timeout_ms`, ...) as the struct `T` the
    /// skeleton generated for its C type. Pointer members are libbpf's own:
    /// in each callback slot it keeps a pointer to the program it will
    /// register there (0 for none), which setting the data leaves alone.
    pub fn struct_ops_data<T: Pod>(&self, name: &str) -> Result<T> {
        let (_, ptr, len) = self.struct_ops_bytes(name)?;
        // SAFETY: libbpf's struct_ops data, `len` bytes, valid while the
        // object is open and changed only through `&mut self`.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) };
        T::read_from_bytes(bytes)
            .ok_or_else(|| struct_ops_size::<T>("read the struct_ops data", name, len))
    }

    /// Sets the data of the struct_ops map `name` before load, but for its
    /// pointer members: libbpf reads each of those as a program of its own
    /// at load, so they keep what libbpf put there (the programs the C
    /// source assigned) whatever `value` holds.
    pub fn set_struct_ops_data<T: Pod>(&mut self, name: &str, value: &T) -> Result<()> {
        let (map, ptr, len) = self.struct_ops_bytes(name)?;
        let bytes = value.as_bytes();
        if bytes.len() != len {
            return Err(struct_ops_size::<T>("set the struct_ops data", name, len));
        }
        let pointers = crate::libbpf::struct_ops_pointers(self.handle.ptr(), map)
            .filter(|slots| slots.iter().all(|slot| slot.end <= len))
            .ok_or_else(|| Error::Configure {
                what: "struct_ops data (its BTF does not describe it)",
                kind: Kind::Map,
                name: name.to_owned(),
                source: einval(),
            })?;
        let mut data = bytes.to_vec();
        // SAFETY: libbpf's struct_ops data, `len` bytes, valid while the
        // object is open; read before it is written below.
        let current = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) };
        for slot in pointers {
            data[slot.clone()].copy_from_slice(&current[slot]);
        }
        // SAFETY: libbpf's struct_ops data is `len` bytes of writable memory
        // it reads at load; the object is open and borrowed mutably, and
        // every pointer member keeps libbpf's own value.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), ptr.as_ptr(), len) };
        Ok(())
    }

    /// The struct_ops map `name`, and libbpf's data of it: where, how long.
    fn struct_ops_bytes(&self, name: &str) -> Result<(NonNull<sys::bpf_map>, NonNull<u8>, usize)> {
        let map = self
            .handle
            .map(name)
            .filter(|&m| is_struct_ops(m))
            .ok_or_else(|| self.not_found(Kind::Map, name))?;
        let mut len = 0usize;
        // SAFETY: a struct_ops map of this open object: libbpf returns its
        // data, `len` bytes.
        let ptr =
            unsafe { sys::bpf_map__initial_value(map.as_ptr(), (&mut len as *mut usize).cast()) };
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| self.not_found(Kind::Map, name))?;
        Ok((map, ptr, len))
    }

    /// Sets the global variable `name` (of any data section, `.rodata`
    /// constants included) before load; `value` must have the variable's
    /// size (a C `bool` is set with a Rust `bool`). For skeleton users the
    /// generated section structs do the same with types; this serves
    /// objects without a skeleton.
    pub fn set_global<T: CellValue>(&mut self, name: &str, value: &T) -> Result<()> {
        self.set_global_bytes(name, value.to_bits().as_bytes())
    }

    /// Like [`OpenObject::set_global`], from bytes.
    pub fn set_global_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        globals::set(&self.handle, name, bytes)
    }

    /// The kernel version the object declares (`LINUX_VERSION_CODE`): its
    /// `version` section's, or, for an object without one, the running
    /// kernel's as libbpf reads it from uname(2) at open.
    pub fn kernel_version(&self) -> u32 {
        // SAFETY: a plain getter of the open object.
        unsafe { sys::bpf_object__kversion(self.handle.ptr().as_ptr()) }
    }

    /// Sets the kernel version the object declares, for kernels that check
    /// it on kprobe programs (before 5.0); later kernels ignore it.
    pub fn set_kernel_version(&mut self, version: u32) -> Result<()> {
        // SAFETY: the object is open and not loaded yet.
        let ret = unsafe { sys::bpf_object__set_kversion(self.handle.ptr().as_ptr(), version) };
        check(ret).map(drop).map_err(|source| Error::Configure {
            what: "kernel version",
            kind: Kind::Program,
            name: self.handle.name().to_owned(),
            source,
        })
    }

    /// Keeps only `programs` and `maps` for load: every other program is
    /// set not to load, every other map (data sections aside) not to be
    /// created. Names the object lacks are errors.
    pub fn retain(&mut self, programs: &[&str], maps: &[&str]) -> Result<()> {
        for name in programs {
            self.find_program(name)?;
        }
        for name in maps {
            self.find_map(name)?;
        }
        for (name, prog) in self.handle.programs() {
            // SAFETY: `prog` belongs to this open, unloaded object.
            let ret =
                unsafe { sys::bpf_program__set_autoload(prog.as_ptr(), programs.contains(&name)) };
            configured(ret, "autoload", Kind::Program, name)?;
        }
        for (name, map) in self.handle.maps() {
            // SAFETY: `map` belongs to this open, unloaded object.
            if unsafe { sys::bpf_map__is_internal(map.as_ptr()) } {
                continue;
            }
            // SAFETY: as above.
            let ret = unsafe { sys::bpf_map__set_autocreate(map.as_ptr(), maps.contains(&name)) };
            configured(ret, "autocreate", Kind::Map, name)?;
        }
        Ok(())
    }

    /// Creates the maps and loads the programs into the kernel.
    ///
    /// When the kernel refuses a program the error is
    /// [`Error::ProgramLoad`], naming the program, with the verifier's log.
    pub fn load(mut self) -> Result<Object> {
        let logs = load::load(&self.handle, &self.applied)?;
        self.handle.keep_verifier_logs(logs);
        Ok(Object {
            handle: Arc::new(self.handle),
        })
    }

    fn find_program(&self, name: &str) -> Result<NonNull<sys::bpf_program>> {
        self.handle
            .program(name)
            .ok_or_else(|| self.not_found(Kind::Program, name))
    }

    fn find_map(&self, name: &str) -> Result<NonNull<sys::bpf_map>> {
        self.handle
            .map(name)
            .ok_or_else(|| self.not_found(Kind::Map, name))
    }

    fn find_section(&self, section: &str) -> Result<NonNull<sys::bpf_map>> {
        find_section(self.handle.ptr(), section).ok_or_else(|| self.not_found(Kind::Map, section))
    }

    fn not_found(&self, kind: Kind, name: &str) -> Error {
        not_found(&self.handle, kind, name)
    }
}

impl std::fmt::Debug for OpenObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenObject")
            .field("name", &self.handle.name())
            .field("programs", &self.program_names())
            .field("maps", &self.map_names())
            .finish()
    }
}

/// An eBPF object in the kernel: its maps created, its programs loaded.
///
/// Programs and maps taken from it are owned handles; the kernel releases
/// each when its last handle (and any link using it) is dropped.
#[derive(Clone)]
pub struct Object {
    handle: Arc<ObjectHandle>,
}

impl Object {
    /// The object's name.
    pub fn name(&self) -> &str {
        self.handle.name()
    }

    /// A handle to the program `name`.
    pub fn program(&self, name: &str) -> Result<Program> {
        let ptr = self
            .handle
            .program(name)
            .ok_or_else(|| not_found(&self.handle, Kind::Program, name))?;
        Ok(Program::new(self.handle.clone(), ptr))
    }

    /// A handle to the map `name`, with its own file descriptor; a map
    /// that was not created (autocreate off) is [`Error::NotCreated`].
    pub fn map(&self, name: &str) -> Result<Map> {
        let ptr = self
            .handle
            .map(name)
            .ok_or_else(|| not_found(&self.handle, Kind::Map, name))?;
        // SAFETY: a map of the live, loaded object.
        if !unsafe { sys::bpf_map__autocreate(ptr.as_ptr()) } {
            return Err(Error::NotCreated {
                map: name.to_owned(),
            });
        }
        Map::from_libbpf(ptr)
    }

    /// The data section `section` (`.bss`, `.data`, `.rodata`, ...; matched
    /// exactly) mapped into this process as the view `V` the skeleton
    /// generated for it.
    pub fn section<V: SectionView>(&self, section: &str) -> Result<Section<V>> {
        let ptr = find_section(self.handle.ptr(), section)
            .ok_or_else(|| not_found(&self.handle, Kind::Map, section))?;
        Section::new(Map::from_libbpf(ptr)?)
    }

    /// The struct_ops map `name`, to register.
    pub fn struct_ops(&self, name: &str) -> Result<StructOps> {
        let ptr = self
            .handle
            .map(name)
            .filter(|&m| is_struct_ops(m))
            .ok_or_else(|| not_found(&self.handle, Kind::Map, name))?;
        StructOps::new(self.handle.clone(), ptr)
    }

    /// Every struct_ops map of the object.
    pub fn struct_ops_maps(&self) -> Result<Vec<StructOps>> {
        self.handle
            .maps()
            .filter(|&(_, m)| is_struct_ops(m))
            .map(|(_, m)| StructOps::new(self.handle.clone(), m))
            .collect()
    }

    /// Every program of the object, loaded or not.
    pub fn programs(&self) -> Vec<Program> {
        self.handle
            .programs()
            .map(|(_, p)| Program::new(self.handle.clone(), p))
            .collect()
    }

    /// Attaches every loaded program whose section names its hook and
    /// registers every struct_ops map created and set to autoattach (see
    /// [`attach_skeleton`]); returns the links.
    pub fn attach(&self) -> Result<Links> {
        let struct_ops = self.struct_ops_maps()?;
        attach_skeleton(
            &self.programs().iter().collect::<Vec<_>>(),
            &struct_ops.iter().collect::<Vec<_>>(),
        )
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("name", &self.handle.name())
            .finish()
    }
}

/// Attaches each program whose section names its hook (see
/// [`section::names_hook`]: tracepoints, probes with their target, trampoline
/// programs, iterators that need no map, `sk_lookup` and `flow_dissector` on
/// the calling thread's network namespace) and that was loaded; the others
/// (`xdp`, `tc`, `socket`, cgroup programs, a bare `uprobe`, map iterators,
/// programs with autoload off) are skipped. Stops at the first failure,
/// detaching what it attached so far.
pub fn attach_all(programs: &[&Program]) -> Result<Links> {
    programs
        .iter()
        .filter(|p| p.is_loaded() && section::names_hook(p.section()))
        .map(|p| p.attach())
        .collect()
}

/// Attaches `programs` as [`attach_all`] does, then registers each of
/// `struct_ops` that was created and is set to autoattach (both
/// `.struct_ops.link` and `.struct_ops` maps, as libbpf's skeletons do).
/// Stops at the first failure, detaching and unregistering what it did so
/// far.
pub fn attach_skeleton(programs: &[&Program], struct_ops: &[&StructOps]) -> Result<Links> {
    let mut links = attach_all(programs)?;
    for ops in struct_ops {
        if ops.is_created() && ops.autoattach() {
            links.push(ops.register()?);
        }
    }
    Ok(links)
}

fn struct_ops_size<T>(op: &'static str, name: &str, len: usize) -> Error {
    Error::Size {
        op,
        map: name.to_owned(),
        what: "value",
        expected: len,
        actual: size_of::<T>(),
    }
}

fn is_struct_ops(map: NonNull<sys::bpf_map>) -> bool {
    // SAFETY: a map of a live object.
    unsafe { sys::bpf_map__type(map.as_ptr()) == sys::BPF_MAP_TYPE_STRUCT_OPS }
}

fn configured(ret: i32, what: &'static str, kind: Kind, name: &str) -> Result<()> {
    check(ret).map_err(|source| Error::Configure {
        what,
        kind,
        name: name.to_owned(),
        source,
    })?;
    Ok(())
}

fn not_found(handle: &ObjectHandle, kind: Kind, name: &str) -> Error {
    let object = handle.name();
    match kind {
        Kind::Program => Error::not_found(object, kind, name, handle.programs().map(|(n, _)| n)),
        Kind::Map => Error::not_found(object, kind, name, handle.maps().map(|(n, _)| n)),
    }
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

/// The file name up to its first dot, as libbpf names objects.
fn object_name(path: &Path) -> String {
    let file = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    file.split('.').next().unwrap_or_default().to_owned()
}
