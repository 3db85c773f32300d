//! Renders metric families as Prometheus text 0.0.4 or OpenMetrics 1.0 text: the
//! [`Encoder`], and [`Collect`], what a metric type implements to be rendered.

use keviq_model::{Format, family_name};

use crate::descriptor::Descriptor;
use crate::exemplar::Exemplar;

/// Something that writes its current samples to an [`Encoder`]. Implemented by every
/// metric type; the registry calls it on each render, after opening the family.
pub trait Collect: Sync {
    /// Writes the samples of the family the encoder has just opened.
    fn collect(&self, enc: &mut Encoder<'_>);
}

/// Writes families into a `String`. The registry opens each family with
/// [`Encoder::family`]; metric types then write their samples.
///
/// The text is written as bytes into a buffer taken from the `String` (no copy),
/// and handed back when the encoder is dropped, checked as UTF-8 once for the whole
/// exposition (a tenth of what checking each label value on its own cost). Short
/// pieces are copied inline rather than through `memcpy` (see the private `Text`).
#[derive(Debug)]
pub struct Encoder<'a> {
    out: &'a mut String,
    buf: Text,
    format: Format,
    name: &'static str,
    label_names: &'static [&'static str],
    /// Where the current series' label text is (see [`LabelText`]).
    at: LabelText,
    /// The current series' labels, rendered and escaped (`a="x",b="y"`), when they
    /// are not in `buf` (see [`LabelText`]).
    labels: Text,
    /// Labels the current series has so far.
    label_count: usize,
    /// The text before each label's value in a series that adds them in order:
    /// `a="`, then `",b="` and so on, back to back.
    pieces: Vec<u8>,
    /// Where each label's piece starts and ends in `pieces`.
    piece_bounds: Vec<(usize, usize)>,
    /// The label `plain_label_at` expects next, to use its piece.
    next_label: usize,
    /// A value written with a piece still lacks its closing quote.
    open: bool,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`. What it writes is in `out` once it is dropped
    /// (or [finished](Self::finish)).
    pub fn new(out: &'a mut String, format: Format) -> Self {
        let buf = Text::from(std::mem::take(out).into_bytes());
        Self {
            out,
            buf,
            format,
            name: "",
            label_names: &[],
            at: LabelText::Empty,
            labels: Text::default(),
            label_count: 0,
            pieces: Vec::new(),
            piece_bounds: Vec::new(),
            next_label: 0,
            open: false,
        }
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Opens a family: writes its `# HELP`, `# TYPE` and (OpenMetrics) `# UNIT` lines.
    pub fn family(&mut self, desc: &Descriptor) {
        self.clear_labels();
        self.name = desc.name;
        self.label_names = desc.labels;
        self.pieces.clear();
        self.piece_bounds.clear();
        for (i, name) in desc.labels.iter().enumerate() {
            let start = self.pieces.len();
            if i > 0 {
                self.pieces.extend_from_slice(b"\",");
            }
            self.pieces.extend_from_slice(name.as_bytes());
            self.pieces.extend_from_slice(b"=\"");
            self.piece_bounds.push((start, self.pieces.len()));
        }
        let family = match self.format {
            Format::OpenMetrics => family_name(desc.name, desc.kind),
            Format::Prometheus => desc.name,
        };
        let out = &mut self.buf;
        if !desc.help.is_empty() {
            out.extend_from_slice(b"# HELP ");
            out.extend_from_slice(family.as_bytes());
            out.push(b' ');
            escape(
                out,
                desc.help.as_bytes(),
                self.format == Format::OpenMetrics,
            );
            out.push(b'\n');
        }
        out.extend_from_slice(b"# TYPE ");
        out.extend_from_slice(family.as_bytes());
        out.push(b' ');
        out.extend_from_slice(desc.kind.as_str().as_bytes());
        out.push(b'\n');
        if let (Format::OpenMetrics, Some(unit)) = (self.format, desc.unit) {
            out.extend_from_slice(b"# UNIT ");
            out.extend_from_slice(family.as_bytes());
            out.push(b' ');
            out.extend_from_slice(unit.as_bytes());
            out.push(b'\n');
        }
    }

    /// Forgets the labels of the previous series.
    #[inline]
    pub fn clear_labels(&mut self) {
        if let LabelText::Writing { line, .. } = self.at {
            // Labels no sample used: take the line back.
            self.buf.len = line;
        }
        self.at = LabelText::Empty;
        self.labels.len = 0;
        self.label_count = 0;
        self.next_label = 0;
        self.open = false;
    }

    /// Adds a label by position in the family's declared label names.
    #[inline]
    pub fn label_at(&mut self, index: usize, value: &str) {
        self.label_text_at(index, value.as_bytes());
    }

    /// [`label_at`](Self::label_at) with the value as bytes (a label value read
    /// back from a series key; the exposition is checked as UTF-8 as a whole).
    #[inline(always)]
    pub(crate) fn label_text_at(&mut self, index: usize, value: &[u8]) {
        if needs_escape(value) {
            self.escaped_label_at(index, value);
        } else {
            self.plain_label_at(index, value);
        }
    }

    /// [`label_text_at`](Self::label_text_at) for a value known to need no escaping.
    ///
    /// Labels added in order share their pieces: `a="x` then `",b="y`, the last
    /// quote written when the sample starts.
    #[inline(always)]
    pub(crate) fn plain_label_at(&mut self, index: usize, value: &[u8]) {
        if index == self.next_label
            && let Some(&(start, end)) = self.piece_bounds.get(index)
            && let Some(piece) = self.pieces.get(start..end)
        {
            let sink = sink(&mut self.at, &mut self.buf, &mut self.labels, self.name);
            let mut c = sink.cursor(piece.len() + value.len());
            c.put(piece);
            c.put(value);
            self.label_count += 1;
            self.next_label = index + 1;
            self.open = true;
        } else {
            self.escaped_label_at(index, value);
        }
    }

    #[cold]
    fn escaped_label_at(&mut self, index: usize, value: &[u8]) {
        let name = self.label_names.get(index).copied().unwrap_or("label");
        self.label_text(name, value);
    }

    /// Adds a label to the current series. The value is escaped here.
    #[inline]
    pub fn label(&mut self, name: &str, value: &str) {
        self.label_text(name, value.as_bytes());
    }

    fn label_text(&mut self, name: &str, value: &[u8]) {
        self.close_label();
        // Out of order: later labels take this path too.
        self.next_label = usize::MAX;
        let first = self.label_count == 0;
        self.label_count += 1;
        let sink = sink(&mut self.at, &mut self.buf, &mut self.labels, self.name);
        if !first {
            sink.push(b',');
        }
        sink.extend_from_slice(name.as_bytes());
        sink.extend_from_slice(b"=\"");
        escape_label_value(sink, value);
        sink.push(b'"');
    }

    /// Writes the closing quote of a label added by [`plain_label_at`](Self::plain_label_at).
    #[inline(always)]
    fn close_label(&mut self) {
        if self.open {
            sink(&mut self.at, &mut self.buf, &mut self.labels, self.name)
                .cursor(1)
                .put(b"\"");
            self.open = false;
        }
    }

    /// Closes the line a series' labels opened with `} `, `value` and a line feed,
    /// with one check for room: the whole of a counter's or gauge's sample when
    /// its labels were written in place (see [`LabelText`]). `false` (and nothing
    /// written) otherwise.
    #[inline(always)]
    fn close_line(&mut self, value: &[u8]) -> bool {
        let LabelText::Writing { start, .. } = self.at else {
            return false;
        };
        let end = self.buf.len + usize::from(self.open);
        let mut c = self.buf.cursor(value.len() + 4);
        if self.open {
            c.put(b"\"");
        }
        c.put(b"} ");
        c.put(value);
        c.put(b"\n");
        drop(c);
        self.open = false;
        self.at = LabelText::Written { start, end };
        true
    }

    #[inline]
    fn sample_start(&mut self, suffix: &str, le: Option<f64>) {
        self.close_label();
        match self.at {
            LabelText::Writing { start, .. } if suffix.is_empty() && le.is_none() => {
                // The line the labels began is this sample's: close it.
                let end = self.buf.len;
                self.buf.cursor(2).put(b"} ");
                self.at = LabelText::Written { start, end };
                return;
            }
            LabelText::Writing { line, start } => {
                // Another sample name (`_bucket`): keep the labels aside, start over.
                let end = self.buf.len;
                self.labels
                    .extend_from_slice(self.buf.bytes.get(start..end).unwrap_or(&[]));
                self.buf.len = line;
                self.at = LabelText::Copied;
            }
            LabelText::Written { start, end } => {
                // A second sample of the series.
                self.labels
                    .extend_from_slice(self.buf.bytes.get(start..end).unwrap_or(&[]));
                self.at = LabelText::Copied;
            }
            LabelText::Empty | LabelText::Copied => {}
        }
        let labels = self.labels.as_bytes();
        let out = &mut self.buf;
        // Room for the line but its value: one check instead of one per piece.
        out.reserve(self.name.len() + suffix.len() + labels.len() + 64);
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        if !labels.is_empty() || le.is_some() {
            out.push(b'{');
            out.extend_from_slice(labels);
            if let Some(le) = le {
                if !labels.is_empty() {
                    out.push(b',');
                }
                out.extend_from_slice(b"le=\"");
                push_f64(out, le);
                out.push(b'"');
            }
            out.push(b'}');
        }
        out.push(b' ');
    }

    #[inline]
    fn push_u64(&mut self, v: u64) {
        match small_number(v) {
            Some(text) => self.buf.cursor(3).put(text),
            None => self
                .buf
                .extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        }
    }

    /// Writes a counter sample with the current labels.
    #[inline]
    pub fn counter(&mut self, value: u64) {
        self.counter_with_exemplar(value, || None);
    }

    /// Writes a counter sample with the current labels and, in OpenMetrics, the
    /// exemplar `exemplar` returns (called only for OpenMetrics: the Prometheus
    /// text format has no exemplars).
    #[inline(always)]
    pub fn counter_with_exemplar(
        &mut self,
        value: u64,
        exemplar: impl FnOnce() -> Option<Exemplar>,
    ) {
        if self.format == Format::Prometheus {
            let mut itoa = itoa::Buffer::new();
            let text = small_number(value).unwrap_or_else(|| itoa.format(value).as_bytes());
            if self.close_line(text) {
                return;
            }
        }
        self.counter_line(value, exemplar);
    }

    fn counter_line(&mut self, value: u64, exemplar: impl FnOnce() -> Option<Exemplar>) {
        self.sample_start("", None);
        self.push_u64(value);
        if self.format == Format::OpenMetrics
            && let Some(e) = exemplar()
        {
            write_exemplar(&mut self.buf, &e);
        }
        self.buf.push(b'\n');
    }

    /// Writes an integer gauge sample with the current labels.
    #[inline]
    pub fn gauge_i64(&mut self, value: i64) {
        let mut itoa = itoa::Buffer::new();
        let text = u64::try_from(value)
            .ok()
            .and_then(small_number)
            .unwrap_or_else(|| itoa.format(value).as_bytes());
        if !self.close_line(text) {
            self.sample_start("", None);
            self.buf.extend_from_slice(text);
            self.buf.push(b'\n');
        }
    }

    /// Writes a float gauge sample with the current labels.
    pub fn gauge_f64(&mut self, value: f64) {
        self.sample_start("", None);
        push_f64(&mut self.buf, value);
        self.buf.push(b'\n');
    }

    /// Writes one histogram series: `counts[i]` observations fell in bucket `i`
    /// (not cumulative); `counts[bounds.len()]` is the `+Inf` bucket.
    pub fn histogram(&mut self, bounds: &[f64], counts: &[u64], sum: f64) {
        self.histogram_with_exemplars(bounds, counts, sum, |_| None);
    }

    /// Writes one histogram series like [`histogram`](Self::histogram) and, in
    /// OpenMetrics, on each bucket `i` the exemplar `exemplar(i)` returns (called
    /// only for OpenMetrics).
    pub fn histogram_with_exemplars(
        &mut self,
        bounds: &[f64],
        counts: &[u64],
        sum: f64,
        mut exemplar: impl FnMut(usize) -> Option<Exemplar>,
    ) {
        let exemplars = self.format == Format::OpenMetrics;
        let mut cumulative = 0u64;
        for (i, &c) in counts.iter().enumerate() {
            cumulative = cumulative.wrapping_add(c);
            self.sample_start(
                "_bucket",
                Some(bounds.get(i).copied().unwrap_or(f64::INFINITY)),
            );
            self.push_u64(cumulative);
            if exemplars && let Some(e) = exemplar(i) {
                write_exemplar(&mut self.buf, &e);
            }
            self.buf.push(b'\n');
        }
        self.sample_start("_sum", None);
        push_f64(&mut self.buf, sum);
        self.buf.push(b'\n');
        self.sample_start("_count", None);
        self.push_u64(cumulative);
        self.buf.push(b'\n');
    }

    /// Ends the exposition (`# EOF` in OpenMetrics); the text is then in the
    /// `String` the encoder was made with.
    pub fn finish(mut self) {
        self.clear_labels();
        if self.format == Format::OpenMetrics {
            self.buf.extend_from_slice(b"# EOF\n");
        }
    }
}

impl Drop for Encoder<'_> {
    /// Hands the text back to the `String`, checked as UTF-8 once.
    fn drop(&mut self) {
        self.clear_labels();
        let bytes = std::mem::take(&mut self.buf).into_bytes();
        *self.out = match String::from_utf8(bytes) {
            Ok(text) => text,
            // Every byte comes from a `&str` or from ASCII the encoder writes; only
            // a custom `LabelValue` that writes a key it cannot read back can get
            // here, and then the text is repaired rather than lost.
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
    }
}

/// Where the label text of the series being written is.
///
/// A series' labels are written straight into the exposition, after `name{`, on
/// the guess that its first sample has no suffix (a counter, a gauge): that sample
/// then only closes the line. A histogram's first sample (`_bucket`) moves them
/// aside into `labels` and starts the line over; so does a second sample. Writing
/// them aside and copying them in made each counter line wait on the copy.
#[derive(Debug, Clone, Copy)]
enum LabelText {
    /// No label yet.
    Empty,
    /// Being written into the exposition: the line starts at `line`, the labels at
    /// `start`, and end at its end.
    Writing { line: usize, start: usize },
    /// In the exposition at `start..end`, on the series' first sample line.
    Written { start: usize, end: usize },
    /// In `labels`.
    Copied,
}

/// Where the next label text goes: the exposition (opening `name{` before the
/// first label) or, once the labels were moved aside, `labels`.
#[inline(always)]
fn sink<'t>(
    at: &mut LabelText,
    buf: &'t mut Text,
    labels: &'t mut Text,
    name: &str,
) -> &'t mut Text {
    match *at {
        LabelText::Empty => {
            let line = buf.len;
            let mut c = buf.cursor(name.len() + 1);
            c.put(name.as_bytes());
            c.put(b"{");
            drop(c);
            *at = LabelText::Writing {
                line,
                start: buf.len,
            };
            buf
        }
        LabelText::Writing { .. } => buf,
        LabelText::Written { start, end } => {
            labels.extend_from_slice(buf.bytes.get(start..end).unwrap_or(&[]));
            *at = LabelText::Copied;
            labels
        }
        LabelText::Copied => labels,
    }
}

/// A byte buffer written up to `len`, in a `Vec` whose initialised length runs ahead
/// of it: a write then copies into bytes that already exist, so a short piece (a
/// label name, a value, a number) is a few moves inline instead of a call to
/// `memcpy` and `Vec`'s growth check, the bulk of what rendering a series cost.
/// Running ahead costs zeroing each byte once before it is written.
#[derive(Debug, Default)]
pub(crate) struct Text {
    bytes: Vec<u8>,
    len: usize,
}

impl From<Vec<u8>> for Text {
    fn from(bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        Self { bytes, len }
    }
}

impl Text {
    /// Makes room for `n` more bytes.
    #[inline(always)]
    fn reserve(&mut self, n: usize) {
        if self.len + n > self.bytes.len() {
            self.grow(n);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let need = self.len + n;
        // Double, but within the capacity already allocated (a render is sized from
        // the last one), so only bytes about to be written are zeroed.
        let mut want = need.max(self.bytes.len() * 2).max(256);
        if need <= self.bytes.capacity() {
            want = want.min(self.bytes.capacity());
        }
        self.bytes.resize(want, 0);
    }

    /// A cursor for writes of `room` bytes at most. The cursor keeps the position
    /// in a register: a byte store through `Text` itself may alias its own fields,
    /// so each write reloaded them (and checked for room) again.
    #[inline(always)]
    fn cursor(&mut self, room: usize) -> Cursor<'_> {
        self.reserve(room);
        Cursor {
            pos: self.len,
            len: &mut self.len,
            bytes: &mut self.bytes,
        }
    }

    #[inline(always)]
    fn push(&mut self, b: u8) {
        self.reserve(1);
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
        }
        self.len += 1;
    }

    #[inline(always)]
    fn extend_from_slice(&mut self, src: &[u8]) {
        self.reserve(src.len());
        copy_short(&mut self.bytes, self.len, src);
        self.len += src.len();
    }

    /// The text written.
    #[inline(always)]
    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&self.bytes)
    }

    /// The text written, as a `Vec`.
    fn into_bytes(mut self) -> Vec<u8> {
        self.bytes.truncate(self.len);
        self.bytes
    }
}

/// Writes into a [`Text`] that has the room (see [`Text::cursor`]); the text's
/// length is set when the cursor is dropped.
struct Cursor<'t> {
    pos: usize,
    len: &'t mut usize,
    bytes: &'t mut [u8],
}

impl Cursor<'_> {
    #[inline(always)]
    fn put(&mut self, src: &[u8]) {
        copy_short(self.bytes, self.pos, src);
        self.pos += src.len();
    }
}

impl Drop for Cursor<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        *self.len = self.pos;
    }
}

/// The decimal text of `v` below 1000, from a table (counts and label integers are
/// mostly small): one load instead of `itoa`'s divisions and call.
#[inline(always)]
pub(crate) fn small_number(v: u64) -> Option<&'static [u8]> {
    static DIGITS: [u8; 3000] = {
        let mut t = [0u8; 3000];
        let mut i = 0;
        while i < 1000 {
            t[i * 3] = b'0' + (i / 100) as u8;
            t[i * 3 + 1] = b'0' + (i / 10 % 10) as u8;
            t[i * 3 + 2] = b'0' + (i % 10) as u8;
            i += 1;
        }
        t
    };
    if v >= 1000 {
        return None;
    }
    let v = v as usize;
    let skip = if v >= 100 {
        0
    } else if v >= 10 {
        1
    } else {
        2
    };
    DIGITS.get(v * 3 + skip..v * 3 + 3)
}

/// `dst[at..at + src.len()] = src`: pieces of up to 64 bytes as overlapping
/// integer loads and stores, longer ones through `copy_from_slice`. `dst` has the
/// room. Integers, not fixed-size slice copies: LLVM merged the copies of the
/// different sizes into one `memcpy` call with the size in a register, the very call
/// this avoids.
#[inline(always)]
fn copy_short(dst: &mut [u8], at: usize, src: &[u8]) {
    let n = src.len();
    let Some(d) = dst.get_mut(at..at + n) else {
        return;
    };
    macro_rules! pair {
        ($t:ty, $k:literal) => {{
            let head = src.first_chunk::<$k>().map(|c| <$t>::from_ne_bytes(*c));
            let tail = src.last_chunk::<$k>().map(|c| <$t>::from_ne_bytes(*c));
            if let (Some(h), Some(c)) = (head, d.first_chunk_mut::<$k>()) {
                *c = h.to_ne_bytes();
            }
            if let (Some(t), Some(c)) = (tail, d.last_chunk_mut::<$k>()) {
                *c = t.to_ne_bytes();
            }
        }};
    }
    match n {
        0 => {}
        1..=3 => {
            d[0] = src[0];
            d[n / 2] = src[n / 2];
            d[n - 1] = src[n - 1];
        }
        4..=7 => pair!(u32, 4),
        8..=16 => pair!(u64, 8),
        17..=32 => pair!(u128, 16),
        33..=64 => {
            // Four 16-byte moves: the first two and the last two, overlapping.
            let (d_head, s_head) = (
                d.get_mut(16..).unwrap_or_default(),
                src.get(16..).unwrap_or_default(),
            );
            let src2 = s_head.first_chunk::<16>().map(|c| u128::from_ne_bytes(*c));
            if let (Some(v), Some(c)) = (src2, d_head.first_chunk_mut::<16>()) {
                *c = v.to_ne_bytes();
            }
            let (d_tail, s_tail) = (
                d.get_mut(..n - 16).unwrap_or_default(),
                src.get(..n - 16).unwrap_or_default(),
            );
            let src3 = s_tail.last_chunk::<16>().map(|c| u128::from_ne_bytes(*c));
            if let (Some(v), Some(c)) = (src3, d_tail.last_chunk_mut::<16>()) {
                *c = v.to_ne_bytes();
            }
            pair!(u128, 16);
        }
        _ => d.copy_from_slice(src),
    }
}

/// Writes a float the way both formats read it back exactly: shortest round-trip
/// digits, `+Inf`, `-Inf`, `NaN`.
pub fn write_f64(out: &mut String, v: f64) {
    out.push_str(f64_text(&mut ryu::Buffer::new(), v));
}

#[inline]
fn push_f64(out: &mut Text, v: f64) {
    out.extend_from_slice(f64_text(&mut ryu::Buffer::new(), v).as_bytes());
}

#[inline]
fn f64_text(buf: &mut ryu::Buffer, v: f64) -> &str {
    if v.is_nan() {
        "NaN"
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }
    } else {
        buf.format_finite(v)
    }
}

/// ` # {a="x"} value timestamp`: an OpenMetrics exemplar, after a sample's value.
fn write_exemplar(out: &mut Text, e: &Exemplar) {
    out.extend_from_slice(b" # {");
    for (i, (name, value)) in e.labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_label_value(out, value.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"} ");
    push_f64(out, e.value);
    if let Some(t) = e.timestamp {
        out.push(b' ');
        push_f64(out, t);
    }
}

#[inline]
fn escape_label_value(out: &mut Text, value: &[u8]) {
    if needs_escape(value) {
        escape(out, value, true);
    } else {
        out.extend_from_slice(value);
    }
}

/// Whether `text` holds a `\`, `"` or line feed: eight bytes per step (a byte at a
/// time cost more than the rest of a label).
#[inline(always)]
pub(crate) fn needs_escape(text: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    #[inline(always)]
    fn has_zero_byte(x: u64) -> bool {
        x.wrapping_sub(ONES) & !x & HIGH != 0
    }
    #[inline(always)]
    fn special(w: u64) -> bool {
        has_zero_byte(w ^ (ONES * u64::from(b'\\')))
            | has_zero_byte(w ^ (ONES * u64::from(b'"')))
            | has_zero_byte(w ^ (ONES * u64::from(b'\n')))
    }
    let len = text.len();
    if len < 8 {
        return text.iter().any(|b| matches!(b, b'\\' | b'"' | b'\n'));
    }
    let mut i = 0;
    while i + 8 < len {
        if special(read_u64(text, i)) {
            return true;
        }
        i += 8;
    }
    // The last 8 bytes, overlapping what the loop checked.
    special(read_u64(text, len - 8))
}

/// Bytes `i..i + 8` (the caller keeps `i + 8 <= b.len()`).
#[inline(always)]
fn read_u64(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = b.get(i..i + 8) {
        w.copy_from_slice(src);
    }
    u64::from_ne_bytes(w)
}

/// Escapes `\` and line feeds, and `"` when `quote` (label values in both formats;
/// HELP text in OpenMetrics, but not in Prometheus 0.0.4, which keeps `"` as is).
fn escape(out: &mut Text, text: &[u8], quote: bool) {
    for &b in text {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'"' if quote => out.extend_from_slice(b"\\\""),
            b => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_format() {
        let mut s = Text::default();
        escape(&mut s, "a\\b\"c\nd é".as_bytes(), false);
        assert_eq!(s.as_bytes(), "a\\\\b\"c\\nd é".as_bytes());
        s.len = 0;
        escape(&mut s, "a\\b\"c\nd é".as_bytes(), true);
        assert_eq!(s.as_bytes(), "a\\\\b\\\"c\\nd é".as_bytes());
    }

    #[test]
    fn small_numbers() {
        for v in [0u64, 7, 10, 99, 100, 404, 999] {
            assert_eq!(small_number(v), Some(v.to_string().as_bytes()));
        }
        assert_eq!(small_number(1000), None);
    }

    #[test]
    fn text_copies_pieces_of_every_length() {
        let source: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        let mut text = Text::from(b"x".to_vec());
        let mut expected = b"x".to_vec();
        for n in 0..300 {
            text.extend_from_slice(&source[..n]);
            text.push(b'|');
            expected.extend_from_slice(&source[..n]);
            expected.push(b'|');
        }
        assert_eq!(text.as_bytes(), &expected[..]);
        assert_eq!(text.into_bytes(), expected);
    }

    #[test]
    fn finds_what_needs_escaping_at_every_position() {
        for len in 0..40 {
            let plain = "a".repeat(len);
            assert!(!needs_escape(plain.as_bytes()));
            for at in 0..len {
                for c in [b'\\', b'"', b'\n'] {
                    let mut t = plain.clone().into_bytes();
                    t[at] = c;
                    assert!(needs_escape(&t), "{len} {at} {c}");
                }
                let mut t = plain.clone().into_bytes();
                // Bytes next to the special ones, and non-ASCII, need nothing.
                for (i, c) in [b'[', b'#', b'\x0b', b'!', 0xc3, 0xa9, b']']
                    .iter()
                    .enumerate()
                {
                    if at + i < len {
                        t[at + i] = *c;
                    }
                }
                assert!(!needs_escape(&t), "{len} {at}");
            }
        }
    }

    #[test]
    fn floats() {
        let mut s = String::new();
        for v in [
            0.0,
            2.5,
            1e21,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.1,
        ] {
            write_f64(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0.0 2.5 1e21 +Inf -Inf NaN -0.1 ");
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(Format::from_accept(""), Format::Prometheus);
        assert_eq!(
            Format::from_accept("application/openmetrics-text"),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept("application/openmetrics-text; version=0.0.1"),
            Format::Prometheus
        );
        assert_eq!(
            Format::from_accept("text/plain;q=0.9, application/openmetrics-text;q=0.5"),
            Format::Prometheus
        );
        assert_eq!(
            Format::from_accept("application/openmetrics-text;q=bogus"),
            Format::Prometheus
        );
    }
}
