//! Programs of no object: hand-assembled (the `asm!` macro, the text form,
//! the Rust builder), loaded with `ProgramBuilder`, run with
//! `BPF_PROG_TEST_RUN`, using maps created at run time.

use ebpf_skeleton::asm::{exit, load_map, AluOp, Builder, Cond, Helper, Instructions, R0, R1, R2};
use ebpf_skeleton::libbpf_sys as sys;
use ebpf_skeleton::{
    asm, Array, ArrayOfMaps, Error, HashMap, Map, MapSpec, MapType, Program, ProgramBuilder,
    ProgramType, TestRun, UpdateFlags,
};

use ebpf_skeleton_tests::kernel::{kernel, Feature};

/// An Ethernet frame of `len` bytes with the ethertype `ethertype`.
fn frame(len: usize, ethertype: u16) -> Vec<u8> {
    let mut frame = vec![0u8; len];
    frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]);
    frame[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xbb]);
    frame[12..14].copy_from_slice(&ethertype.to_be_bytes());
    frame
}

/// The bytes a socket filter's `skb->len` counts of a frame: the kernel's
/// test run takes the Ethernet header off for programs below tc.
const ETH_HLEN: usize = 14;

fn load(builder: ProgramBuilder<'_>) -> Program {
    builder.load().unwrap_or_else(|err| panic!("{err}"))
}

/// XDP: IPv4 frames pass, anything else (or too short a frame) is dropped,
/// and a passed frame goes back with its MAC addresses swapped.
#[test]
fn a_hand_written_xdp_program_gives_its_verdicts() {
    let program = asm! {
        r2 = *(u32 *)(r1 + 0)          // ctx->data
        r3 = *(u32 *)(r1 + 4)          // ctx->data_end
        r4 = r2
        r4 += 14
        if r4 > r3 goto drop           // no whole Ethernet header
        r5 = *(u16 *)(r2 + 12)         // the ethertype, in network order
        if r5 != 0x8 goto drop         // 0x0800 read little-endian
        r6 = *(u32 *)(r2 + 0)          // swap the two MAC addresses
        r7 = *(u16 *)(r2 + 4)
        r8 = *(u32 *)(r2 + 6)
        r9 = *(u16 *)(r2 + 10)
        *(u32 *)(r2 + 0) = w8
        *(u16 *)(r2 + 4) = w9
        *(u32 *)(r2 + 6) = w6
        *(u16 *)(r2 + 10) = w7
        r0 = 2                         // XDP_PASS
        exit
      drop:
        r0 = 1                         // XDP_DROP
        exit
    };
    let xdp = load(ProgramBuilder::new("ipv4_only", ProgramType::XDP, program));
    assert_eq!(xdp.program_type(), ProgramType::XDP);
    assert_eq!(xdp.name(), "ipv4_only");
    assert_eq!(xdp.info().unwrap().name, "ipv4_only");

    let ipv4 = frame(60, 0x0800);
    let run = xdp.test_run_with(&TestRun::new().data(&ipv4)).unwrap();
    assert_eq!(run.return_value, sys::XDP_PASS);
    let mut swapped = ipv4.clone();
    swapped[..6].copy_from_slice(&ipv4[6..12]);
    swapped[6..12].copy_from_slice(&ipv4[..6]);
    assert_eq!(run.data, swapped);

    let ipv6 = frame(60, 0x86dd);
    let run = xdp.test_run_with(&TestRun::new().data(&ipv6)).unwrap();
    assert_eq!((run.return_value, run.data), (sys::XDP_DROP, ipv6));
}

/// A socket filter returns how many bytes of the packet to keep; this one
/// keeps half.
#[test]
fn a_hand_written_socket_filter_returns_its_length() {
    let program: Instructions = "\
        r0 = *(u32 *)(r1 + 0x0)
        r0 >>= 0x1
        exit"
        .parse()
        .unwrap();
    let filter = load(ProgramBuilder::new(
        "half",
        ProgramType::SOCKET_FILTER,
        program,
    ));
    for len in [60, 100, 1514] {
        let packet = frame(len, 0x0800);
        let run = filter.test_run_with(&TestRun::new().data(&packet)).unwrap();
        assert_eq!(run.return_value as usize, (len - ETH_HLEN) / 2, "{len}");
    }
}

/// The counting program: `counts[skb->len] += 1`, inserting 1 for a new
/// length.
fn counting_program() -> Instructions {
    asm! {
        r2 = *(u32 *)(r1 + 0)          // skb->len
        *(u32 *)(r10 - 4) = w2         // the key
        r1 = map(counts) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto insert
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        goto out
      insert:
        *(u64 *)(r10 - 16) = 1         // the first count
        r1 = map(counts) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0                         // BPF_ANY
        call bpf_map_update_elem
      out:
        r0 = 0
        exit
    }
}

#[test]
fn a_program_counts_into_a_map_made_at_run_time() {
    let counts = HashMap::<u32, u64>::create("counts", 16).unwrap();
    assert_eq!(counts.info().max_entries, 16);
    assert_eq!(counts.map().kernel_name(), "counts");
    let program = load(
        ProgramBuilder::new("count_len", ProgramType::SOCKET_FILTER, counting_program())
            .map("counts", &counts),
    );
    // The kernel holds the map for the program too.
    assert_eq!(program.info().unwrap().map_ids, [counts.info().id]);
    // What was loaded is what was given, and hashes to the kernel's tag.
    let loaded = program.instructions().unwrap();
    assert_eq!(loaded, counting_program());
    let hash = ebpf_skeleton::tag_hash().unwrap();
    assert_eq!(loaded.tag(hash).0, program.info().unwrap().tag);
    // The kernel's translation names the map by its id.
    let translated = program.translated_instructions().unwrap();
    let map_loads: Vec<&str> = (0..translated.len())
        .filter_map(|i| translated.name(i))
        .filter(|name| *name == "counts")
        .collect();
    assert_eq!(map_loads.len(), 2, "{translated}");

    let long = frame(100, 0x0800);
    let short = frame(64, 0x0800);
    program
        .test_run_with(&TestRun::new().data(&long).repeat(3))
        .unwrap();
    program.test_run_with(&TestRun::new().data(&short)).unwrap();
    program
        .test_run_with(&TestRun::new().data(&long).repeat(2))
        .unwrap();

    let mut entries = counts.iter().collect::<Result<Vec<_>, _>>().unwrap();
    entries.sort();
    assert_eq!(
        entries,
        [(64 - ETH_HLEN as u32, 1), (100 - ETH_HLEN as u32, 5)]
    );
    // Rust's writes are the program's to read.
    counts.insert(&86, &1000, UpdateFlags::EXIST).unwrap();
    program.test_run_with(&TestRun::new().data(&long)).unwrap();
    assert_eq!(counts.get(&86).unwrap(), Some(1001));
}

/// The map outlives nothing it needs: the program keeps it in the kernel
/// after the last handle is dropped.
#[test]
fn the_program_keeps_its_map_after_the_handle_goes() {
    let counts = HashMap::<u32, u64>::create("counts", 4).unwrap();
    let id = counts.info().id;
    let program = load(
        ProgramBuilder::new("count_len", ProgramType::SOCKET_FILTER, counting_program())
            .map("counts", &counts),
    );
    drop(counts);
    program
        .test_run_with(&TestRun::new().data(&frame(60, 0)))
        .unwrap();
    // SAFETY: a plain system call; the descriptor is owned right away.
    let fd = unsafe { sys::bpf_map_get_fd_by_id(id) };
    assert!(fd >= 0, "map {id} is gone");
    // SAFETY: the kernel just returned this descriptor to us.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let again = HashMap::<u32, u64>::try_from(Map::from_fd(fd, "counts").unwrap()).unwrap();
    assert_eq!(again.get(&46).unwrap(), Some(1));
}

/// A BPF-to-BPF call: the subprogram doubles its argument, written with
/// the Rust builder and with `asm!`.
#[test]
fn a_program_calls_a_subprogram() {
    let mut b = Builder::new();
    b.push(AluOp::Mov.imm(R1, 20))
        .push(ebpf_skeleton::asm::call("double"))
        .push(AluOp::Add.imm(R0, 2))
        .push(exit())
        .label("double")
        .push(AluOp::Mov.reg(R0, R1))
        .push(AluOp::Mul.imm(R0, 2))
        .push(exit());
    let built = b.build().unwrap();
    let written = asm! {
        r1 = 20
        call double
        r0 += 2
        exit
      double:
        r0 = r1
        r0 *= 2
        exit
    };
    assert_eq!(built, written);
    assert_eq!(
        built.to_string(),
        "r1 = 0x14\ncall double\nr0 += 0x2\nexit\ndouble:\nr0 = r1\nr0 *= 0x2\nexit\n"
    );
    // Plain calls load with the functions' BTF and without.
    for btf in [true, false] {
        let program =
            load(ProgramBuilder::new("calls", ProgramType::SOCKET_FILTER, built.clone()).btf(btf));
        assert_eq!(program.info().unwrap().btf_id != 0, btf);
        let run = program
            .test_run_with(&TestRun::new().data(&frame(20, 0)))
            .unwrap();
        assert_eq!(run.return_value, 42);
    }
}

/// A subprogram as a callback: `bpf_loop` calls it five times, and it
/// adds each index to the sum its context points to, on the caller's stack.
#[test]
fn a_program_passes_a_subprogram_to_a_helper() {
    let program = asm! {
        *(u64 *)(r10 - 8) = 0
        r1 = 5                          // iterations
        ld_pseudo r2, 4, step           // the callback (BPF_PSEUDO_FUNC)
        r3 = r10                        // its context: the sum
        r3 += -8
        r4 = 0
        call bpf_loop
        if r0 != 5 goto out             // the iterations run
        r0 = *(u64 *)(r10 - 8)
      out:
        exit
      step:                             // (u64 index, u64 *sum)
        r3 = *(u64 *)(r2 + 0)
        r3 += r1
        *(u64 *)(r2 + 0) = r3
        r0 = 0                          // go on
        exit
    };
    let builder = ProgramBuilder::new("loop5", ProgramType::SOCKET_FILTER, program);
    if !kernel().has(Feature::BpfLoop) {
        // Before 5.13 the kernel does not see `step` as a function (no
        // BPF_PSEUDO_FUNC), so the BTF describes one function too many;
        // before 5.17 it has no bpf_loop.
        let err = builder.load().unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        let log = err.verifier_log().unwrap();
        let expected = if kernel().at_least(5, 13) {
            "invalid func unknown#181"
        } else {
            "number of funcs in func_info doesn't match number of subprogs"
        };
        assert!(log.contains(expected), "{log}");
        return;
    }
    let loaded = load(builder.clone());
    let run = loaded
        .test_run_with(&TestRun::new().data(&frame(20, 0)))
        .unwrap();
    assert_eq!(run.return_value, 1 + 2 + 3 + 4);
    // The BTF made for the load says where `step` starts.
    assert_ne!(loaded.info().unwrap().btf_id, 0);

    // Without it the kernel refuses the callback.
    let err = builder.btf(false).load().unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    let log = err.verifier_log().unwrap();
    assert!(log.contains("missing btf func_info"), "{log}");
}

/// A map of maps created at run time, its inner maps too: the program
/// counts into whichever map slot 0 holds.
#[test]
fn a_map_of_maps_made_at_run_time_holds_maps_made_at_run_time() {
    let template = Array::<u64>::create("template", 1).unwrap();
    let outer = ArrayOfMaps::create("outer", 2, &template).unwrap();
    let (a, b) = (
        Array::<u64>::create("a", 1).unwrap(),
        Array::<u64>::create("b", 1).unwrap(),
    );
    let program = asm! {
        *(u32 *)(r10 - 4) = 0
        r1 = map(outer) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem       // the inner map in slot 0
        if r0 == 0 goto out
        r1 = r0
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem       // its slot 0
        if r0 == 0 goto out
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
      out:
        r0 = 0
        exit
    };
    let program = load(
        ProgramBuilder::new("through_outer", ProgramType::SOCKET_FILTER, program)
            .map("outer", &outer),
    );
    let packet = frame(20, 0);
    let run = |n| {
        program
            .test_run_with(&TestRun::new().data(&packet).repeat(n))
            .unwrap()
    };
    run(3); // slot 0 empty: nothing counted
    outer.set(0, &a).unwrap();
    run(2);
    outer.set(0, &b).unwrap();
    run(7);
    assert_eq!(
        (
            a.get(0).unwrap(),
            b.get(0).unwrap(),
            template.get(0).unwrap()
        ),
        (Some(2), Some(7), Some(0))
    );
    assert_eq!(outer.get(0).unwrap(), Some(b.info().id));

    // A map unlike the template is refused by the kernel.
    let unlike = HashMap::<u32, u64>::create("unlike", 1).unwrap();
    let err = outer.set(1, &unlike).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
}

/// A map made at run time in an object's map of maps, which a program of
/// the object writes through.
#[test]
fn an_objects_map_of_maps_takes_a_map_made_at_run_time() {
    // Only the program the test runs (others call helpers old kernels lack).
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/maps.bpf.o");
    let mut open = ebpf_skeleton::OpenObject::from_file(path).unwrap();
    for name in open.program_names() {
        let mut spec = open.program_spec(&name).unwrap();
        spec.autoload = name == "of_maps_prog";
        open.apply_program(&spec).unwrap();
    }
    let object = open.load().unwrap();
    let outer = ArrayOfMaps::try_from(object.map("outer_array").unwrap()).unwrap();
    let inner = Array::<u64>::create("mine", 1).unwrap();
    outer.set(1, &inner).unwrap();
    // of_maps_prog with (OP_WRITE = 0, key 1, value 10): writes slot 1's map.
    let args = ebpf_skeleton_tests::raw_tp_context(&[0, 1, 10, 0]);
    let program = object.program("of_maps_prog").unwrap();
    program.test_run(Some(&args)).unwrap();
    assert_eq!(inner.get(0).unwrap(), Some(10));
}

#[test]
fn the_verifier_log_of_a_rejected_program_is_in_the_error() {
    // r2 is read before it is written.
    let program: Instructions = "r0 = r2\nexit".parse().unwrap();
    let err = ProgramBuilder::new("uninit", ProgramType::SOCKET_FILTER, program)
        .load()
        .unwrap_err();
    let Error::ProgramLoad {
        program, object, ..
    } = &err
    else {
        panic!("not a load error: {err:?}");
    };
    assert_eq!((program.as_str(), object.as_str()), ("uninit", ""));
    assert_eq!(err.errno(), Some(libc::EACCES));
    let log = err.verifier_log().unwrap();
    assert!(log.contains("R2 !read_ok"), "{log}");
    let text = err.to_string();
    assert!(
        text.starts_with("the verifier rejected program `uninit`\n--- verifier log ---"),
        "{text}"
    );
}

#[test]
fn the_log_of_a_successful_load_is_kept_when_asked_for() {
    let program: Instructions = "r0 = 0x0\nexit".parse().unwrap();
    let quiet = load(ProgramBuilder::new(
        "quiet",
        ProgramType::SOCKET_FILTER,
        program.clone(),
    ));
    assert_eq!(quiet.verifier_log(), None);
    let logged =
        load(ProgramBuilder::new("logged", ProgramType::SOCKET_FILTER, program).log_level(1));
    let log = logged.verifier_log().unwrap();
    assert!(log.contains("processed 2 insns"), "{log}");
}

#[test]
fn a_map_the_instructions_name_must_be_given() {
    let counts = HashMap::<u32, u64>::create("count", 1).unwrap();
    let err = ProgramBuilder::new("count_len", ProgramType::SOCKET_FILTER, counting_program())
        .map("count", &counts)
        .load()
        .unwrap_err();
    assert!(matches!(err, Error::ProgramBuild { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "program `count_len` cannot be loaded: its instructions use no map named `counts`, \
         which was not given (ProgramBuilder::map); did you mean `count`?"
    );
}

#[test]
fn kernel_symbols_need_btf() {
    let program = asm! {
        call kfunc bpf_task_acquire
        r0 = 0
        exit
    };
    let err = ProgramBuilder::new("kfunc", ProgramType::SOCKET_FILTER, program)
        .load()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("refers to the kernel symbol `bpf_task_acquire`"),
        "{err}"
    );
}

#[test]
fn bad_names_and_refused_settings_name_the_map() {
    let err = HashMap::<u32, u64>::create("my-map", 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "creating map `my-map`: its name holds '-'; the kernel takes only ASCII letters, \
         digits, `_` and `.` in names"
    );
    let err = ProgramBuilder::new("my prog", ProgramType::XDP, Instructions::new())
        .load()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("program `my prog` cannot be loaded: its name holds ' '"),
        "{err}"
    );

    // A hash map takes no empty key.
    let err = MapSpec::new("empty_key", MapType::HASH, 0, 8, 4)
        .create()
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert_eq!(
        err.to_string(),
        "creating map `empty_key`: the kernel refused a hash map of 0-byte keys, 8-byte values \
         and 4 entries, flags 0x0 (sizes or flags this kind does not take, or a kind this kernel \
         does not have)"
    );
    // A ring buffer's size is a power of two.
    let err = ebpf_skeleton::RingBuf::create("ring", 3 * 4096).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    // The typed check after creation: an array is not a hash map.
    let err =
        HashMap::<u32, u64>::from_spec(&MapSpec::new("arr", MapType::ARRAY, 4, 8, 1)).unwrap_err();
    assert!(matches!(err, Error::MapKind { .. }), "{err:?}");
}

#[test]
fn long_names_are_cut_by_the_kernel_not_by_the_handle() {
    let map = Array::<u32>::create("a_rather_long_map_name", 2).unwrap();
    assert_eq!(map.name(), "a_rather_long_map_name");
    assert_eq!(map.map().kernel_name(), "a_rather_long_m");
    let program = load(ProgramBuilder::new(
        "a_rather_long_program_name",
        ProgramType::SOCKET_FILTER,
        "r0 = 0x0\nexit".parse().unwrap(),
    ));
    assert_eq!(program.name(), "a_rather_long_program_name");
    assert_eq!(program.info().unwrap().name, "a_rather_long_p");
}

/// Every typed constructor makes a map of its kind with its sizes.
#[test]
fn typed_constructors_make_their_kinds() {
    #[derive(ebpf_skeleton::Pod, Clone, Copy)]
    #[repr(C)]
    struct V4 {
        prefixlen: u32,
        addr: [u8; 4],
    }
    let info = |map: &Map| {
        (
            map.map_type(),
            map.info().key_size,
            map.info().value_size,
            map.info().max_entries,
        )
    };
    let hash = HashMap::<u64, [u8; 24]>::create("h", 8).unwrap();
    assert_eq!(info(hash.map()), (MapType::HASH, 8, 24, 8));
    let lru = HashMap::<u32, u32>::create_lru("l", 8).unwrap();
    assert_eq!(info(lru.map()), (MapType::LRU_HASH, 4, 4, 8));
    let array = Array::<u16>::create("a", 3).unwrap();
    assert_eq!(info(array.map()), (MapType::ARRAY, 4, 2, 3));
    let per_cpu = ebpf_skeleton::PerCpuArray::<u64>::create("pa", 2).unwrap();
    assert_eq!(info(per_cpu.map()), (MapType::PERCPU_ARRAY, 4, 8, 2));
    let per_cpu_hash = ebpf_skeleton::PerCpuHashMap::<u32, u64>::create("ph", 2).unwrap();
    assert_eq!(info(per_cpu_hash.map()), (MapType::PERCPU_HASH, 4, 8, 2));
    let queue = ebpf_skeleton::Queue::<u32>::create("q", 4).unwrap();
    assert_eq!(info(queue.map()), (MapType::QUEUE, 0, 4, 4));
    queue.push(&7, UpdateFlags::ANY).unwrap();
    assert_eq!(queue.pop().unwrap(), Some(7));
    let stack = ebpf_skeleton::Stack::<u32>::create("s", 4).unwrap();
    assert_eq!(info(stack.map()), (MapType::STACK, 0, 4, 4));
    let ring = ebpf_skeleton::RingBuf::create("r", 4096).unwrap();
    assert_eq!(
        (ring.map().map_type(), ring.capacity()),
        (MapType::RINGBUF, 4096)
    );
    let jumps = ebpf_skeleton::ProgramArray::create("j", 4).unwrap();
    assert_eq!(info(jumps.map()), (MapType::PROG_ARRAY, 4, 4, 4));
    let trie = ebpf_skeleton::LpmTrie::<V4, u32>::create("t", 16).unwrap();
    assert_eq!(info(trie.map()), (MapType::LPM_TRIE, 8, 4, 16));
    assert_eq!(trie.info().flags, sys::BPF_F_NO_PREALLOC);
    trie.insert(
        &V4 {
            prefixlen: 8,
            addr: [10, 0, 0, 0],
        },
        &1,
        UpdateFlags::ANY,
    )
    .unwrap();
    assert_eq!(
        trie.get(&V4 {
            prefixlen: 32,
            addr: [10, 9, 8, 7]
        })
        .unwrap(),
        Some(1)
    );
    let hash_of_maps = ebpf_skeleton::HashOfMaps::<u64>::create("hm", 4, &array).unwrap();
    assert_eq!(info(hash_of_maps.map()), (MapType::HASH_OF_MAPS, 8, 4, 4));
    let bloom = ebpf_skeleton::BloomFilter::<u64>::create("b", 64, 3);
    if !kernel().has(Feature::BloomFilter) {
        let err = bloom.expect_err("a bloom filter before Linux 5.16");
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        assert!(
            err.to_string()
                .starts_with("creating map `b`: the kernel refused a bloom_filter map"),
            "{err}"
        );
        return;
    }
    let bloom = bloom.unwrap();
    assert_eq!(
        (info(bloom.map()), bloom.info().map_extra),
        ((MapType::BLOOM_FILTER, 0, 8, 64), 3)
    );
    bloom.insert(&99).unwrap();
    assert!(bloom.contains(&99).unwrap());
}

/// A pin path in the spec pins the new map.
#[test]
fn a_spec_with_a_pin_path_pins_what_it_creates() {
    let path = std::path::PathBuf::from(format!(
        "/sys/fs/bpf/ebpf-skeleton-created-{}",
        std::process::id()
    ));
    let mut spec = MapSpec::new("pinned", MapType::ARRAY, 4, 8, 1);
    spec.pin_path = Some(path.clone());
    let map = Array::<u64>::from_spec(&spec).unwrap();
    map.set(0, &5, UpdateFlags::ANY).unwrap();
    let opened = Array::<u64>::from_pin(&path).unwrap();
    assert_eq!(opened.get(0).unwrap(), Some(5));
    map.unpin(&path).unwrap();
}

/// The `Builder`'s helper calls and map loads, as cilium/ebpf's `asm`
/// writes them, make the same program as the text.
#[test]
fn the_builder_and_the_text_make_the_same_program() {
    let mut b = Builder::new();
    b.push(ebpf_skeleton::asm::store_imm(
        ebpf_skeleton::asm::Size::Word,
        ebpf_skeleton::asm::R10,
        -4,
        0,
    ))
    .push(load_map(R1, "counts"))
    .push(AluOp::Mov.reg(R2, ebpf_skeleton::asm::R10))
    .push(AluOp::Add.imm(R2, -4))
    .push(Helper::MapLookupElem.call())
    .push(Cond::Eq.imm(R0, 0, "out"))
    .push(AluOp::Mov.imm(R0, 1))
    .label("out")
    .push(exit());
    let built = b.build().unwrap();
    let text = asm! {
        *(u32 *)(r10 - 4) = 0
        r1 = map(counts) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r0 = 1
      out:
        exit
    };
    assert_eq!(built, text);
    let counts = HashMap::<u32, u64>::create("counts", 1).unwrap();
    let program = load(
        ProgramBuilder::new("found", ProgramType::SOCKET_FILTER, built).map("counts", &counts),
    );
    let packet = frame(20, 0);
    let found = || {
        program
            .test_run_with(&TestRun::new().data(&packet))
            .unwrap()
            .return_value
    };
    assert_eq!(found(), 0);
    counts.insert(&0, &1, UpdateFlags::ANY).unwrap();
    assert_eq!(found(), 1);
}

/// The README's example, as it is there (with a socket to attach to).
#[test]
fn the_readme_example() -> ebpf_skeleton::Result<()> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let counts = HashMap::<u32, u64>::create("counts", 16)?;
    let program = asm! {
        r2 = *(u32 *)(r1 + 0)          // skb->len
        *(u32 *)(r10 - 4) = w2         // the key
        r1 = map(counts) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto insert
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        goto out
      insert:
        *(u64 *)(r10 - 16) = 1         // the first count
        r1 = map(counts) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0                         // BPF_ANY
        call bpf_map_update_elem
      out:
        r0 = 0
        exit
    };
    let filter = ProgramBuilder::new("count_len", ProgramType::SOCKET_FILTER, program)
        .map("counts", &counts)
        .load()?; // a rejection carries the verifier's log
    filter.test_run_with(&TestRun::new().data(&[0; 64]).repeat(3))?;
    assert_eq!(counts.get(&50)?, Some(3)); // 64 bytes less the Ethernet header
    let _link = filter.attach_socket(&socket)?; // or attach_xdp, attach_tcx, attach_cgroup, ...
    Ok(())
}

/// The instructions of ISA v4 (Linux 6.6), run by the kernel: signed
/// division and modulo, a sign-extending move and load, a byte swap and a
/// long jump. The program returns 1 when every result is right, else the
/// number of the first check that failed.
#[test]
fn isa_v4_instructions_compute_what_they_say() {
    let program = asm! {
        r1 = -7
        r2 = 2
        r3 = r1
        r3 s/= r2                      // -7 / 2 = -3, rounded toward zero
        w0 = 2
        if r3 != -3 goto done
        r4 = r1
        r4 s%= r2                      // the remainder takes the dividend's sign
        w0 = 3
        if r4 != -1 goto done
        w5 = 0x80
        r5 = (s8)r5                    // 0x80 sign-extended from 8 bits
        w0 = 4
        if r5 != -128 goto done
        r6 = 0x1234
        r6 = bswap16 r6
        w0 = 5
        if r6 != 0x3412 goto done
        *(u8 *)(r10 - 8) = 0xff
        r7 = *(s8 *)(r10 - 8)          // a sign-extending load
        w0 = 6
        if r7 != -1 goto done
        gotol pass                     // a jump with a 32-bit offset
      done:
        exit
      pass:
        w0 = 1
        exit
    };
    let builder = ProgramBuilder::new("isa_v4", ProgramType::SOCKET_FILTER, program);
    if !kernel().at_least(6, 6) {
        // Before walking the program the verifier checks each opcode
        // against its table, where the 64-bit byte swap (0xd7) is missing
        // (5.10 and 6.1 say so).
        let err = builder.load().unwrap_err();
        assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
        let log = err.verifier_log().unwrap_or_default();
        assert!(log.starts_with("unknown opcode d7"), "{log}");
        return;
    }
    let filter = load(builder);
    let run = filter
        .test_run_with(&TestRun::new().data(&frame(60, 0x0800)))
        .unwrap();
    assert_eq!(run.return_value, 1);
}
