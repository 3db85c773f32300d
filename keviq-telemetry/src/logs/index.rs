//! An index of the log files by request ID, kept up to date as they grow.
//!
//! [`LogIndex::catch_up`] reads what the files gained since the last call, in
//! chunks, and notes for each line that carries a `request_id` where it starts (its
//! file and byte offset); for each `trace_id` it notes the request IDs seen with it.
//! Nothing else of a line is kept, and a line is not parsed as JSON: the IDs are found
//! as the text keviq writes (`"request_id":"…"`), which the IDs' character sets make
//! unambiguous. A lookup reads the noted lines only.
//!
//! Bounds: at most [`MAX_INDEXED_LINES`] lines are remembered (about 16 bytes each,
//! with their request IDs); past it the oldest are forgotten, and a lookup that may
//! have lost lines says so (`truncated`). A line longer than
//! [`LogLimits::line_bytes`] is skipped. A file replaced under its name (rotation: a
//! new inode) or cut (truncation: shorter than what was read, or starting with other
//! bytes than it did) is read again from its start; what was noted in the old one is dropped, since it can no longer be read by
//! that name.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

/// Lines the index remembers at most (with two IDs per request, about 50 MB at the
/// bound); the oldest are forgotten first.
pub const MAX_INDEXED_LINES: usize = 2_000_000;

/// Bytes read from a file per step of a catch-up (the lock is not held meanwhile).
const CHUNK_BYTES: usize = 4 << 20;

/// How a lookup reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// Longest line considered; longer ones are skipped.
    pub line_bytes: usize,
    /// Lines returned at most.
    pub max_lines: usize,
    /// Time a lookup may spend catching up with the files first; what is left is
    /// indexed by the next call (the service's background task calls every second).
    pub catch_up: Duration,
}

impl LogLimits {
    /// Lines up to 64 KiB, 1,000 lines, 200 ms of catching up.
    pub const DEFAULT: Self = Self {
        line_bytes: 64 << 10,
        max_lines: 1_000,
        catch_up: Duration::from_millis(200),
    };
}

impl Default for LogLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where one line starts.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Order in which lines were indexed, across files: what is forgotten first.
    seq: u64,
    /// `slot << 48 | offset`.
    at: u64,
}

const OFFSET_BITS: u32 = 48;

impl Entry {
    fn slot(self) -> usize {
        usize::try_from(self.at >> OFFSET_BITS).unwrap_or(usize::MAX)
    }
    fn offset(self) -> u64 {
        self.at & ((1 << OFFSET_BITS) - 1)
    }
}

/// A line that carries a request ID: where it starts, its request ID and its trace
/// ID if any.
type Found<'l> = (u64, &'l [u8], Option<&'l [u8]>);

/// One file as read under its name: a new slot whenever it is replaced or cut.
#[derive(Debug, Clone)]
struct Slot {
    path: usize,
    inode: u64,
    /// Read up to here (the start of the first line not yet complete).
    offset: u64,
    /// The file's first bytes (up to [`HEAD_BYTES`]): a file cut and written again
    /// past the old offset starts differently.
    head: Vec<u8>,
    alive: bool,
}

/// Bytes of a file's start kept to recognise it.
const HEAD_BYTES: usize = 64;

#[derive(Debug, Default)]
struct State {
    slots: Vec<Slot>,
    /// The current slot of each path.
    current: Vec<Option<usize>>,
    by_request: BTreeMap<Box<str>, Vec<Entry>>,
    by_trace: HashMap<Box<str>, Vec<Box<str>>>,
    seq: u64,
    /// Entries held (live and not yet swept).
    held: usize,
    /// Entries with a lower `seq` are forgotten.
    oldest: u64,
}

impl State {
    fn forget_oldest(&mut self) {
        if self.held <= MAX_INDEXED_LINES {
            return;
        }
        // Forget a tenth at a time, so the sweep runs rarely.
        let keep = MAX_INDEXED_LINES - MAX_INDEXED_LINES / 10;
        self.oldest = self.seq.saturating_sub(keep as u64);
        let (oldest, slots) = (self.oldest, &self.slots);
        let mut held = 0;
        self.by_request.retain(|_, entries| {
            entries.retain(|e| e.seq >= oldest && slots.get(e.slot()).is_some_and(|s| s.alive));
            held += entries.len();
            !entries.is_empty()
        });
        self.held = held;
        let requests = &self.by_request;
        self.by_trace.retain(|_, ids| {
            ids.retain(|id| requests.contains_key(id));
            !ids.is_empty()
        });
    }
}

/// The index of a set of log files (see the [module docs](self)).
#[derive(Debug)]
pub struct LogIndex {
    files: Vec<PathBuf>,
    state: Mutex<State>,
}

/// A line's IDs, found as keviq writes them.
fn id_after<'l>(line: &'l [u8], key: &[u8]) -> Option<&'l [u8]> {
    let start = find(line, key)? + key.len();
    let rest = &line[start..];
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    (rest.get(end) == Some(&b'"') && end > 0).then(|| &rest[..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl LogIndex {
    /// An index of `files`, empty until [`LogIndex::catch_up`].
    pub fn new(files: Vec<PathBuf>) -> Self {
        let current = vec![None; files.len()];
        Self {
            files,
            state: Mutex::new(State {
                current,
                ..State::default()
            }),
        }
    }

    /// The files indexed.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Lines remembered now.
    pub fn indexed_lines(&self) -> usize {
        self.lock().held
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads what the files gained since the last call, for at most `budget`;
    /// returns whether every file is read to its end. A file that cannot be read is
    /// skipped (and tried again next time).
    pub fn catch_up(&self, budget: Duration, line_bytes: usize) -> bool {
        let deadline = Instant::now() + budget;
        let mut done = true;
        for path in 0..self.files.len() {
            match self.catch_up_file(path, deadline, line_bytes) {
                Ok(true) => {}
                Ok(false) => done = false,
                Err(e) => {
                    tracing::debug!(path = %self.files[path].display(), error = %e, "cannot read log file");
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
        }
        done
    }

    /// Catches up with one file; `Ok(true)` when read to its end.
    fn catch_up_file(
        &self,
        path: usize,
        deadline: Instant,
        line_bytes: usize,
    ) -> std::io::Result<bool> {
        let name = &self.files[path];
        let mut file = File::open(name)?;
        let meta = file.metadata()?;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut file).take(HEAD_BYTES as u64).read_to_end(&mut head)?;
        let (slot, mut offset) = {
            let mut state = self.lock();
            let current = state.current[path].filter(|&s| {
                let slot = &state.slots[s];
                let common = slot.head.len().min(head.len());
                slot.inode == meta.ino()
                    && slot.offset <= meta.len()
                    && slot.head[..common] == head[..common]
            });
            match current {
                Some(s) => {
                    if head.len() > state.slots[s].head.len() {
                        state.slots[s].head = head;
                    }
                    (s, state.slots[s].offset)
                }
                None => {
                    // New, replaced or cut: read from the start, forget the old one.
                    if let Some(old) = state.current[path] {
                        state.slots[old].alive = false;
                    }
                    state.slots.push(Slot {
                        path,
                        inode: meta.ino(),
                        offset: 0,
                        head,
                        alive: true,
                    });
                    let s = state.slots.len() - 1;
                    state.current[path] = Some(s);
                    (s, 0)
                }
            }
        };
        if offset >= 1 << OFFSET_BITS || slot >= 1 << (64 - OFFSET_BITS) {
            return Ok(true);
        }
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; CHUNK_BYTES];
        loop {
            let mut filled = 0;
            while filled < buf.len() {
                let n = file.read(&mut buf[filled..])?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            let chunk = &buf[..filled];
            // Complete lines only; a line still being written waits for next time.
            let Some(last_newline) = chunk.iter().rposition(|&b| b == b'\n') else {
                if filled == buf.len() {
                    // One line longer than a chunk: skip it.
                    let skipped = skip_line(&mut file)?;
                    offset += filled as u64 + skipped;
                    self.lock().slots[slot].offset = offset;
                    continue;
                }
                return Ok(true);
            };
            let complete = &chunk[..=last_newline];
            let mut found: Vec<Found<'_>> = Vec::new();
            let mut start = 0;
            for line in complete.split_inclusive(|&b| b == b'\n') {
                if line.len() <= line_bytes
                    && let Some(request) = id_after(line, b"\"request_id\":\"")
                {
                    found.push((
                        offset + start as u64,
                        request,
                        id_after(line, b"\"trace_id\":\""),
                    ));
                }
                start += line.len();
            }
            offset += complete.len() as u64;
            {
                let mut state = self.lock();
                if state.current[path] != Some(slot) {
                    return Ok(true);
                }
                for (at, request, trace) in found {
                    let (Ok(request), Ok(slot_bits)) =
                        (std::str::from_utf8(request), u64::try_from(slot))
                    else {
                        continue;
                    };
                    state.seq += 1;
                    let entry = Entry {
                        seq: state.seq,
                        at: slot_bits << OFFSET_BITS | at,
                    };
                    let is_new = !state.by_request.contains_key(request);
                    state
                        .by_request
                        .entry(request.into())
                        .or_default()
                        .push(entry);
                    state.held += 1;
                    if let Some(trace) = trace.and_then(|t| std::str::from_utf8(t).ok()) {
                        let ids = state.by_trace.entry(trace.into()).or_default();
                        if is_new || !ids.iter().any(|id| &**id == request) {
                            ids.push(request.into());
                        }
                    }
                }
                state.slots[slot].offset = offset;
                state.forget_oldest();
            }
            // Rewind to the start of the incomplete line.
            file.seek(SeekFrom::Start(offset))?;
            if Instant::now() >= deadline {
                return Ok(false);
            }
        }
    }

    /// The lines of the request IDs in `ids` (an ID ending in `…`: every ID that
    /// starts with what precedes it), read from the files, at most `limits.max_lines`;
    /// and whether lines may be missing (a bound, or forgotten lines).
    fn read(&self, ids: &[&str], limits: LogLimits) -> (Vec<Map<String, Value>>, bool) {
        let mut locations: Vec<(u64, PathBuf, u64, String)> = Vec::new();
        let mut truncated;
        {
            let state = self.lock();
            truncated = state.oldest > 0;
            for id in ids {
                let matching: Vec<(&Box<str>, &Vec<Entry>)> =
                    match id.strip_suffix(keviq::axum::names::TRUNCATION_MARK) {
                        Some(prefix) => state
                            .by_request
                            .range::<str, _>((
                                std::ops::Bound::Included(prefix),
                                std::ops::Bound::Unbounded,
                            ))
                            .take_while(|(k, _)| k.starts_with(prefix))
                            .collect(),
                        None => state.by_request.get_key_value(*id).into_iter().collect(),
                    };
                for (key, entries) in matching {
                    for e in entries {
                        if let Some(slot) = state.slots.get(e.slot()).filter(|s| s.alive) {
                            locations.push((
                                e.seq,
                                self.files[slot.path].clone(),
                                e.offset(),
                                key.to_string(),
                            ));
                        }
                    }
                }
            }
        }
        locations.sort_by_key(|l| l.0);
        if locations.len() > limits.max_lines {
            truncated = true;
            locations.truncate(limits.max_lines);
        }
        let mut lines = Vec::with_capacity(locations.len());
        let mut open: Option<(PathBuf, BufReader<File>)> = None;
        for (_, path, offset, id) in locations {
            if open.as_ref().is_none_or(|(p, _)| *p != path) {
                match File::open(&path) {
                    Ok(f) => open = Some((path.clone(), BufReader::new(f))),
                    Err(_) => continue,
                }
            }
            let Some((_, reader)) = open.as_mut() else {
                continue;
            };
            if let Some(record) = read_line_at(reader, offset, limits.line_bytes)
                && record.get("request_id").and_then(Value::as_str) == Some(id.as_str())
            {
                lines.push(record);
            }
        }
        (lines, truncated)
    }

    /// The lines of one request, oldest first, with whether some may be missing.
    pub fn request_lines(
        &self,
        request_id: &str,
        limits: LogLimits,
    ) -> (Vec<Map<String, Value>>, bool) {
        self.catch_up(limits.catch_up, limits.line_bytes);
        self.read(&[request_id], limits)
    }

    /// The lines of every request seen with `trace_id`, oldest first, with whether
    /// some may be missing.
    pub fn trace_lines(
        &self,
        trace_id: &str,
        limits: LogLimits,
    ) -> (Vec<Map<String, Value>>, bool) {
        self.catch_up(limits.catch_up, limits.line_bytes);
        let ids: Vec<String> = self
            .lock()
            .by_trace
            .get(trace_id)
            .map(|ids| ids.iter().map(|id| id.to_string()).collect())
            .unwrap_or_default();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.read(&refs, limits)
    }

    /// The trace IDs seen with a request's lines.
    pub fn traces_of(&self, lines: &[Map<String, Value>]) -> Vec<String> {
        let mut traces: Vec<String> = Vec::new();
        for line in lines {
            if let Some(t) = line.get("trace_id").and_then(Value::as_str)
                && !traces.iter().any(|x| x == t)
            {
                traces.push(t.to_owned());
            }
        }
        traces
    }
}

/// Skips the rest of a line; returns the bytes skipped.
fn skip_line(file: &mut File) -> std::io::Result<u64> {
    let mut reader = BufReader::new(&mut *file);
    let mut skipped = 0u64;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(i) => {
                skipped += i as u64 + 1;
                reader.consume(i + 1);
                break;
            }
            None => {
                let n = available.len();
                skipped += n as u64;
                reader.consume(n);
            }
        }
    }
    let position = reader.stream_position()?;
    drop(reader);
    file.seek(SeekFrom::Start(position))?;
    Ok(skipped)
}

/// The JSON object of the line at `offset`, if it is one and not longer than `max`.
fn read_line_at(
    reader: &mut BufReader<File>,
    offset: u64,
    max: usize,
) -> Option<Map<String, Value>> {
    reader.seek(SeekFrom::Start(offset)).ok()?;
    let mut line = Vec::with_capacity(512);
    reader
        .take(u64::try_from(max).unwrap_or(u64::MAX) + 1)
        .read_until(b'\n', &mut line)
        .ok()?;
    if line.len() > max {
        return None;
    }
    match serde_json::from_slice::<Value>(&line) {
        Ok(Value::Object(record)) => Some(record),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keviq-logs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn append(path: &PathBuf, lines: &[&str]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open");
        for line in lines {
            writeln!(f, "{line}").expect("write");
        }
    }

    fn messages(lines: &[Map<String, Value>]) -> Vec<&str> {
        lines
            .iter()
            .filter_map(|l| l.get("message").and_then(Value::as_str))
            .collect()
    }

    #[test]
    fn lines_of_one_request_from_every_file() {
        let d = dir("every");
        let (a, b) = (d.join("a.log"), d.join("b.log"));
        append(
            &a,
            &[
                r#"{"timestamp":"2026-11-30T10:00:02Z","service":"orchestrator","request_id":"r-1","trace_id":"t1","message":"run"}"#,
                r#"{"timestamp":"2026-11-30T10:00:03Z","service":"orchestrator","request_id":"r-2","message":"other"}"#,
                "not json at all \"request_id\":\"r-1\"",
                r#"{"timestamp":"2026-11-30T10:00:03Z","message":"outside any request"}"#,
            ],
        );
        append(
            &b,
            &[
                r#"{"timestamp":"2026-11-30T10:00:01Z","service":"api-gateway","request_id":"r-1","message":"in"}"#,
            ],
        );
        let index = LogIndex::new(vec![a.clone(), d.join("missing.log"), b]);
        let (lines, truncated) = index.request_lines("r-1", LogLimits::DEFAULT);
        let mut got = messages(&lines);
        got.sort_unstable();
        assert_eq!(got, ["in", "run"], "the line that is not JSON is left out");
        assert!(!truncated);
        assert_eq!(index.indexed_lines(), 4);
        // Lines appended later are found by the next lookup.
        append(
            &a,
            &[
                r#"{"timestamp":"2026-11-30T10:00:04Z","request_id":"r-1","trace_id":"t1","message":"out"}"#,
            ],
        );
        let (lines, _) = index.request_lines("r-1", LogLimits::DEFAULT);
        assert_eq!(lines.len(), 3);
        let (lines, _) = index.trace_lines("t1", LogLimits::DEFAULT);
        assert_eq!(
            lines.len(),
            3,
            "every line of the requests seen with the trace"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_line_still_being_written_waits() {
        let d = dir("partial");
        let a = d.join("a.log");
        let mut f = File::create(&a).expect("create");
        write!(f, r#"{{"request_id":"r-1","message":"half"#).expect("write");
        let index = LogIndex::new(vec![a.clone()]);
        assert!(index.request_lines("r-1", LogLimits::DEFAULT).0.is_empty());
        writeln!(f, r#"","timestamp":"t"}}"#).expect("write");
        assert_eq!(
            messages(&index.request_lines("r-1", LogLimits::DEFAULT).0),
            ["half"]
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn bounds_cut_the_answer_and_say_so() {
        let d = dir("bounds");
        let a = d.join("a.log");
        let long = format!(r#"{{"request_id":"r-9","pad":"{}"}}"#, "x".repeat(200));
        let short = r#"{"request_id":"r-9","message":"short"}"#;
        append(&a, &[&long, short, short, short]);
        let index = LogIndex::new(vec![a]);
        let limits = LogLimits {
            line_bytes: 100,
            max_lines: 2,
            ..LogLimits::DEFAULT
        };
        let (lines, truncated) = index.request_lines("r-9", limits);
        assert_eq!(
            messages(&lines),
            ["short", "short"],
            "the long line is skipped"
        );
        assert!(truncated);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_shortened_id_matches_by_prefix() {
        let d = dir("prefix");
        let a = d.join("a.log");
        append(
            &a,
            &[
                r#"{"request_id":"long-id-0123456789","message":"a"}"#,
                r#"{"request_id":"long-id-0123999999","message":"b"}"#,
                r#"{"request_id":"other","message":"c"}"#,
            ],
        );
        let index = LogIndex::new(vec![a]);
        let (lines, _) = index.request_lines("long-id-0123\u{2026}", LogLimits::DEFAULT);
        assert_eq!(messages(&lines), ["a", "b"]);
        assert!(
            index
                .request_lines("long-id-0123", LogLimits::DEFAULT)
                .0
                .is_empty()
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn rotated_and_truncated_files_are_followed() {
        let d = dir("rotate");
        let a = d.join("a.log");
        append(&a, &[r#"{"request_id":"r-1","message":"before"}"#]);
        let index = LogIndex::new(vec![a.clone()]);
        assert_eq!(index.request_lines("r-1", LogLimits::DEFAULT).0.len(), 1);
        // Rotated: renamed away, a new file under the name.
        std::fs::rename(&a, d.join("a.log.1")).expect("rename");
        append(&a, &[r#"{"request_id":"r-2","message":"after rotation"}"#]);
        assert_eq!(
            messages(&index.request_lines("r-2", LogLimits::DEFAULT).0),
            ["after rotation"]
        );
        assert!(
            index.request_lines("r-1", LogLimits::DEFAULT).0.is_empty(),
            "the old file's lines are no longer read by this name"
        );
        // Truncated in place, then written again: read from the start.
        File::create(&a).expect("truncate");
        append(
            &a,
            &[r#"{"request_id":"r-3","message":"after truncation"}"#],
        );
        assert_eq!(
            messages(&index.request_lines("r-3", LogLimits::DEFAULT).0),
            ["after truncation"]
        );
        assert!(index.request_lines("r-2", LogLimits::DEFAULT).0.is_empty());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn ids_are_found_as_keviq_writes_them() {
        assert_eq!(
            id_after(br#"{"request_id":"abc","x":1}"#, b"\"request_id\":\""),
            Some(&b"abc"[..])
        );
        assert_eq!(
            id_after(br#"{"request_id":"a\"b"}"#, b"\"request_id\":\""),
            None
        );
        assert_eq!(
            id_after(br#"{"request_id":""}"#, b"\"request_id\":\""),
            None
        );
        assert_eq!(
            id_after(br#"{"request_id":"abc"#, b"\"request_id\":\""),
            None
        );
    }
}
