//! eBPF objects: opened (parsed, nothing in the kernel) and loaded.

use std::ffi::{CStr, CString};
use std::io;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use libbpf_sys as sys;

use crate::error::{check, last_error, Error, Kind, Result};
use crate::global::{Section, SectionView};
use crate::link::Link;
use crate::map::{Map, MapSpec};
use crate::program::{Program, ProgramSpec};
use crate::{print, section, Pod};

/// The verifier log buffer handed to libbpf. The kernel writes to it only
/// when a program fails to load; untouched pages of it cost nothing. A small
/// buffer would turn a rejection into `ENOSPC` once the log overflows.
const LOG_BUF_SIZE: usize = 16 << 20;

/// The libbpf object behind a loaded [`Object`], shared by its programs and
/// links so that none of them can outlive it.
pub(crate) struct Inner {
    ptr: NonNull<sys::bpf_object>,
    name: String,
}

// SAFETY: after load, the object is only read (names, fds) and used to create
// links, which libbpf does without mutating the object; it is closed once, in
// `Drop`, when the last handle goes.
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}

impl Inner {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // SAFETY: the pointer came from libbpf's open and is closed only here.
        unsafe { sys::bpf_object__close(self.ptr.as_ptr()) }
    }
}

/// An eBPF object parsed by libbpf but not yet in the kernel.
///
/// Opening needs no privileges. What must be decided before load (which
/// programs load, map sizes) is set through [`ProgramSpec`] and [`MapSpec`];
/// [`OpenObject::load`] then creates the maps and loads the programs.
pub struct OpenObject {
    /// Closes the object when dropped before load.
    inner: Inner,
    /// Where the kernel writes the verifier log of a rejected program. libbpf
    /// holds a pointer to it until load, so it lives as long as `self`.
    log: Box<[u8]>,
}

impl OpenObject {
    /// Opens an object from bytes that live for the whole program, such as
    /// the ones `ebpf_skeleton!` embeds.
    pub fn from_static(name: &str, bytes: &'static [u8]) -> Result<Self> {
        Self::open(name, |opts| {
            // SAFETY: `bytes` is valid for 'static; libbpf reads it until load.
            unsafe { sys::bpf_object__open_mem(bytes.as_ptr().cast(), bytes.len() as _, opts) }
        })
    }

    /// Opens an object file from disk.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = object_name(path);
        let c_path =
            CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| Error::Open {
                object: name.clone(),
                source: io::Error::from_raw_os_error(libc::EINVAL),
            })?;
        Self::open(&name, |opts| {
            // SAFETY: both pointers are valid C strings / options for the call.
            unsafe { sys::bpf_object__open_file(c_path.as_ptr(), opts) }
        })
    }

    fn open(
        name: &str,
        open: impl FnOnce(*const sys::bpf_object_open_opts) -> *mut sys::bpf_object,
    ) -> Result<Self> {
        print::install();
        let open_error = |source| Error::Open {
            object: name.to_owned(),
            source,
        };
        let c_name = CString::new(name).map_err(|_| open_error(einval()))?;
        let mut log = vec![0u8; LOG_BUF_SIZE].into_boxed_slice();
        let opts = sys::bpf_object_open_opts {
            sz: size_of::<sys::bpf_object_open_opts>() as _,
            object_name: c_name.as_ptr(),
            kernel_log_buf: log.as_mut_ptr().cast(),
            kernel_log_size: log.len() as _,
            ..Default::default()
        };
        let ptr = NonNull::new(open(&opts)).ok_or_else(|| open_error(last_error()))?;
        let name = name.to_owned();
        Ok(OpenObject {
            inner: Inner { ptr, name },
            log,
        })
    }

    /// The object's name (for embedded objects, the module's name).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The names of the object's programs, in section order.
    pub fn program_names(&self) -> Vec<String> {
        programs_of(self.inner.ptr)
            .map(|p| program_name(p))
            .collect()
    }

    /// The names of the object's maps, data sections (`.bss`, `.rodata`, ...)
    /// included under libbpf's names for them.
    pub fn map_names(&self) -> Vec<String> {
        maps_of(self.inner.ptr).map(|m| map_name(m)).collect()
    }

    /// The current settings of the program `name`.
    pub fn program_spec(&self, name: &str) -> Result<ProgramSpec> {
        let prog = self.find_program(name)?;
        Ok(ProgramSpec::read(prog))
    }

    /// The current settings of the map `name`.
    pub fn map_spec(&self, name: &str) -> Result<MapSpec> {
        let map = self.find_map(name)?;
        Ok(MapSpec::read(map))
    }

    /// Applies a program's settings before load.
    pub fn apply_program(&mut self, spec: &ProgramSpec) -> Result<()> {
        let prog = self.find_program(spec.name())?;
        spec.apply(prog)
    }

    /// Applies a map's settings before load.
    pub fn apply_map(&mut self, spec: &MapSpec) -> Result<()> {
        let map = self.find_map(spec.name())?;
        spec.apply(map)
    }

    /// The initial value of the data section `section` (`.rodata`,
    /// `.data.stats`, ...), as the struct the skeleton generated for it.
    pub fn section_data<T: Pod>(&self, section: &str) -> Result<T> {
        let map = self.find_section(section)?;
        let mut size = 0usize;
        // SAFETY: `map` is an internal map of this open object.
        let ptr = unsafe { sys::bpf_map__initial_value(map, (&mut size as *mut usize).cast()) };
        if ptr.is_null() {
            return Err(not_found(&self.inner.name, Kind::Map, section));
        }
        // SAFETY: libbpf returns the map's initial value, `size` bytes long,
        // valid while the object is open and unchanged during this borrow.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), size) };
        crate::global::read_plain(bytes, section)
    }

    /// Sets what the data section `section` holds when the object loads:
    /// what the verifier sees for `.rodata`, and the starting values of
    /// `.data` and `.bss`.
    pub fn set_section_data<T: Pod>(&mut self, section: &str, value: &T) -> Result<()> {
        let map = self.find_section(section)?;
        // SAFETY: `map` is a map of this open object.
        let len = unsafe { sys::bpf_map__value_size(map) } as usize;
        let bytes = crate::global::plain_bytes(value, len, section)?;
        // SAFETY: `map` is an internal map of this open, unloaded object;
        // libbpf copies the bytes and checks their size.
        let ret = unsafe {
            sys::bpf_map__set_initial_value(map, bytes.as_ptr().cast(), bytes.len() as _)
        };
        check(ret).map_err(|source| Error::Configure {
            what: "initial value",
            kind: Kind::Map,
            name: section.to_owned(),
            source,
        })?;
        Ok(())
    }

    fn find_section(&self, section: &str) -> Result<*mut sys::bpf_map> {
        find_section(self.inner.ptr, &self.inner.name, section)
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
        for prog in programs_of(self.inner.ptr) {
            let keep = programs.contains(&program_name(prog).as_str());
            // SAFETY: `prog` belongs to this open, unloaded object.
            let ret = unsafe { sys::bpf_program__set_autoload(prog, keep) };
            self.configured(ret, "autoload", Kind::Program, program_name(prog))?;
        }
        for map in maps_of(self.inner.ptr) {
            // SAFETY: `map` belongs to this open, unloaded object.
            if unsafe { sys::bpf_map__is_internal(map) } {
                continue;
            }
            let keep = maps.contains(&map_name(map).as_str());
            // SAFETY: as above.
            let ret = unsafe { sys::bpf_map__set_autocreate(map, keep) };
            self.configured(ret, "autocreate", Kind::Map, map_name(map))?;
        }
        Ok(())
    }

    fn configured(&self, ret: i32, what: &'static str, kind: Kind, name: String) -> Result<()> {
        check(ret).map_err(|source| Error::Configure {
            what,
            kind,
            name,
            source,
        })?;
        Ok(())
    }

    /// Creates the maps and loads the programs into the kernel.
    ///
    /// When the verifier rejects a program the error is
    /// [`Error::ProgramLoad`] with the verifier's log.
    pub fn load(mut self) -> Result<Object> {
        self.log[0] = 0;
        // SAFETY: the object is open and not loaded yet.
        let (ret, warnings) =
            print::capture(|| unsafe { sys::bpf_object__load(self.inner.ptr.as_ptr()) });
        check(ret).map_err(|source| self.load_error(source, &warnings))?;
        // libbpf is done with the log buffer: it is freed with `self.log`.
        Ok(Object {
            inner: Arc::new(self.inner),
        })
    }

    /// Names the program whose load failed, if one did, with the verifier's
    /// log; otherwise passes on what libbpf said.
    fn load_error(&self, source: io::Error, warnings: &[String]) -> Error {
        let object = self.inner.name.clone();
        let mut details = warnings.join("\n");
        // SAFETY: a plain query.
        if source.raw_os_error() == Some(libc::EPERM) && unsafe { libc::geteuid() } != 0 {
            details.push_str(
                "\nloading eBPF needs root (or CAP_BPF with CAP_PERFMON and CAP_NET_ADMIN)",
            );
        }
        // libbpf unloads every program when one fails, so which one failed
        // is known only from its message.
        match warnings.iter().find_map(|w| failed_program(w)) {
            Some(program) => Error::ProgramLoad {
                object,
                program: program.to_owned(),
                source,
                log: CStr::from_bytes_until_nul(&self.log)
                    .map(|s| s.to_string_lossy().trim_end().to_owned())
                    .unwrap_or_default(),
                details,
            },
            None => Error::Load {
                object,
                source,
                details,
            },
        }
    }

    fn find_program(&self, name: &str) -> Result<*mut sys::bpf_program> {
        find_program(self.inner.ptr, &self.inner.name, name)
    }

    fn find_map(&self, name: &str) -> Result<*mut sys::bpf_map> {
        find_map(self.inner.ptr, &self.inner.name, name)
    }
}

impl std::fmt::Debug for OpenObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenObject")
            .field("name", &self.inner.name)
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
    inner: Arc<Inner>,
}

impl Object {
    /// The object's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// A handle to the program `name`.
    pub fn program(&self, name: &str) -> Result<Program> {
        let ptr = find_program(self.inner.ptr, &self.inner.name, name)?;
        Ok(Program::new(self.inner.clone(), ptr))
    }

    /// A handle to the map `name`, with its own file descriptor.
    pub fn map(&self, name: &str) -> Result<Map> {
        let ptr = find_map(self.inner.ptr, &self.inner.name, name)?;
        Map::from_libbpf(ptr)
    }

    /// The data section `section` (`.bss`, `.data`, `.rodata`, ...) mapped
    /// into this process as the view `V` the skeleton generated for it.
    pub fn section<V: SectionView>(&self, section: &str) -> Result<Section<V>> {
        let ptr = find_section(self.inner.ptr, &self.inner.name, section)?;
        Section::new(Map::from_libbpf(ptr)?)
    }

    /// Every program of the object, loaded or not.
    pub fn programs(&self) -> Vec<Program> {
        programs_of(self.inner.ptr)
            .map(|p| Program::new(self.inner.clone(), p))
            .collect()
    }

    /// Attaches every loaded program whose section names its hook, and
    /// returns the links; see [`attach_all`].
    pub fn attach(&self) -> Result<Vec<Link>> {
        attach_all(&self.programs().iter().collect::<Vec<_>>())
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("name", &self.inner.name)
            .finish()
    }
}

/// Attaches each program whose section names its hook (see
/// [`section::names_hook`]) and that was loaded; the others (`xdp`, `tc`,
/// `socket`, a bare `uprobe`, programs with autoload off) are skipped. Stops
/// at the first failure, detaching what it attached so far.
pub fn attach_all(programs: &[&Program]) -> Result<Vec<Link>> {
    programs
        .iter()
        .filter(|p| p.is_loaded() && section::names_hook(p.section()))
        .map(|p| p.attach())
        .collect()
}

/// The program named in libbpf's "prog 'NAME': BPF program load failed" or
/// "prog 'NAME': failed to load".
fn failed_program(warning: &str) -> Option<&str> {
    let rest = warning
        .strip_prefix("libbpf: ")
        .unwrap_or(warning)
        .strip_prefix("prog '")?;
    let (name, tail) = rest.split_once("': ")?;
    (tail.starts_with("BPF program load failed") || tail.starts_with("failed to load"))
        .then_some(name)
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

fn object_name(path: &Path) -> String {
    let file = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    file.split('.').next().unwrap_or_default().to_owned()
}

fn find_program(
    obj: NonNull<sys::bpf_object>,
    object: &str,
    name: &str,
) -> Result<*mut sys::bpf_program> {
    programs_of(obj)
        .find(|&p| program_name(p) == name)
        .ok_or_else(|| not_found(object, Kind::Program, name))
}

fn find_map(obj: NonNull<sys::bpf_object>, object: &str, name: &str) -> Result<*mut sys::bpf_map> {
    maps_of(obj)
        .find(|&m| map_name(m) == name)
        .ok_or_else(|| not_found(object, Kind::Map, name))
}

/// libbpf names a data section's map `<object prefix>.bss` (or `.data.x`
/// for custom sections), so the map is found by its suffix.
fn find_section(
    obj: NonNull<sys::bpf_object>,
    object: &str,
    section: &str,
) -> Result<*mut sys::bpf_map> {
    maps_of(obj)
        .find(|&m| {
            // SAFETY: `m` is a map of the live object.
            let internal = unsafe { sys::bpf_map__is_internal(m) };
            internal && map_name(m).ends_with(section)
        })
        .ok_or_else(|| not_found(object, Kind::Map, section))
}

fn not_found(object: &str, kind: Kind, name: &str) -> Error {
    Error::NotFound {
        object: object.to_owned(),
        kind,
        name: name.to_owned(),
    }
}

fn programs_of(obj: NonNull<sys::bpf_object>) -> impl Iterator<Item = *mut sys::bpf_program> {
    let mut prev = std::ptr::null_mut();
    std::iter::from_fn(move || {
        // SAFETY: `obj` is a live object and `prev` one of its programs or NULL.
        prev = unsafe { sys::bpf_object__next_program(obj.as_ptr(), prev) };
        (!prev.is_null()).then_some(prev)
    })
}

fn maps_of(obj: NonNull<sys::bpf_object>) -> impl Iterator<Item = *mut sys::bpf_map> {
    let mut prev = std::ptr::null_mut();
    std::iter::from_fn(move || {
        // SAFETY: `obj` is a live object and `prev` one of its maps or NULL.
        prev = unsafe { sys::bpf_object__next_map(obj.as_ptr(), prev) };
        (!prev.is_null()).then_some(prev)
    })
}

pub(crate) fn program_name(prog: *const sys::bpf_program) -> String {
    // SAFETY: libbpf returns a NUL-terminated name owned by the program.
    cstr(unsafe { sys::bpf_program__name(prog) })
}

pub(crate) fn program_section(prog: *const sys::bpf_program) -> String {
    // SAFETY: as above.
    cstr(unsafe { sys::bpf_program__section_name(prog) })
}

pub(crate) fn map_name(map: *const sys::bpf_map) -> String {
    // SAFETY: as above.
    cstr(unsafe { sys::bpf_map__name(map) })
}

fn cstr(ptr: *const libc::c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: non-NULL strings from libbpf are NUL-terminated.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}
