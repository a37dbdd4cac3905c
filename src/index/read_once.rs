//! Giving back the pages of an index file this process read once.
//!
//! At start-up the catalog is rebuilt from the `meta` column, which tantivy
//! reads through a memory map: 120 MB at 100k cards. Once decoded, nothing
//! reads that column until the next start (a merge may, briefly), yet its
//! pages stay mapped and count as this process's resident memory for as long
//! as it runs. Dropping the mapping's pages leaves them in the page cache (a
//! restart still finds them there) and any later read faults them in again.

/// Unmaps the whole pages inside `bytes` from this process, if `bytes` lies
/// in a read-only mapping of a file. Anything else (the in-memory index of
/// tests, other systems) is left alone: on heap memory `MADV_DONTNEED` would
/// discard data, so the mapping is checked first, not assumed.
pub fn release(bytes: &[u8]) {
    #[cfg(target_os = "linux")]
    linux::release(bytes);
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}

#[cfg(target_os = "linux")]
mod linux {
    pub fn release(bytes: &[u8]) {
        // SAFETY: sysconf only reads its integer argument.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let Ok(page) = usize::try_from(page) else {
            return;
        };
        if page == 0 {
            return;
        }
        let begin = bytes.as_ptr() as usize;
        let end = begin + bytes.len();
        let (start, stop) = (begin.next_multiple_of(page), end / page * page);
        if stop <= start || !in_read_only_file_mapping(begin, end) {
            return;
        }
        // SAFETY: [start, stop) lies inside `bytes`, which is inside a
        // read-only mapping of a file that the caller keeps alive. On such a
        // mapping MADV_DONTNEED only drops page table entries; the next read
        // maps the file's pages again, so no reader sees different bytes.
        let done = unsafe {
            libc::madvise(
                start as *mut libc::c_void,
                stop - start,
                libc::MADV_DONTNEED,
            )
        };
        if done != 0 {
            tracing::debug!("could not release {} bytes of mapped index", stop - start);
        }
    }

    /// Whether `/proc/self/maps` shows [begin, end) inside one mapping that
    /// is not writable and has a file behind it (a non-zero inode).
    fn in_read_only_file_mapping(begin: usize, end: usize) -> bool {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return false;
        };
        maps.lines().any(|line| {
            // "7f12a000-7f12b000 r--s 00000000 fd:01 1234   /data/x.fast"
            let mut parts = line.split_ascii_whitespace();
            let (Some(range), Some(perms), Some(_offset), Some(_device), Some(inode)) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return false;
            };
            let Some((low, high)) = range.split_once('-') else {
                return false;
            };
            let (Ok(low), Ok(high)) = (
                usize::from_str_radix(low, 16),
                usize::from_str_radix(high, 16),
            ) else {
                return false;
            };
            low <= begin && end <= high && !perms.contains('w') && inode != "0"
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn heap_memory_is_never_released() {
            let data = vec![7u8; 1 << 20];
            release(&data);
            assert!(data.iter().all(|&b| b == 7));
            assert!(!in_read_only_file_mapping(
                data.as_ptr() as usize,
                data.as_ptr() as usize + data.len()
            ));
        }

        #[test]
        fn a_mapped_file_reads_the_same_after_its_pages_are_released() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("column");
            let content: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &content).unwrap();
            let file = std::fs::File::open(&path).unwrap();
            // SAFETY: the file is ours and nobody changes it during the test.
            let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
            assert!(in_read_only_file_mapping(
                map.as_ptr() as usize,
                map.as_ptr() as usize + map.len()
            ));
            let touched: u64 = map.iter().step_by(4096).map(|&b| u64::from(b)).sum();
            assert!(touched > 0);
            let before = resident_kb(map.as_ptr() as usize);
            release(&map);
            let after = resident_kb(map.as_ptr() as usize);
            assert!(
                before >= 1000 && after < before / 4,
                "{before} kB -> {after} kB"
            );
            assert_eq!(&map[..], &content[..]);
        }

        /// The `Rss:` of the mapping starting at `start`, from smaps.
        fn resident_kb(start: usize) -> u64 {
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            let header = format!("{start:x}-");
            let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&header));
            lines
                .find_map(|l| l.strip_prefix("Rss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap()
        }
    }
}
