//! The messages of remote write 1.0, derived with prost (no build script, no
//! `protoc`: the protocol's four messages are small and frozen), and the body of a
//! request: the encoded `WriteRequest` compressed in snappy's block format.
//!
//! ```text
//! message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; reserved 3; }
//! message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//! message Label        { string name = 1; string value = 2; }
//! message Sample       { double value = 1; int64 timestamp = 2; }
//! ```

use prost::Message;

/// The bits of Prometheus's staleness marker: a NaN no arithmetic produces, which
/// tells a receiver the series ended (a target went down, or stopped exposing it).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// One request: any number of series.
#[derive(Clone, PartialEq, Message)]
pub struct WriteRequest {
    /// The series, each with its samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// One series: its labels (sorted by name, `__name__` among them) and samples in
/// time order.
#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    /// The labels.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// One label.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Message)]
pub struct Label {
    /// Its name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its value, never empty.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// One sample.
#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Compression failed (snappy refuses input above about 4 GiB).
#[derive(Debug, thiserror::Error)]
#[error("snappy compression failed: {0}")]
pub struct CompressError(#[from] snap::Error);

/// The body of a request: `request` encoded, then snappy-compressed (block format,
/// not the framed stream format).
///
/// # Errors
/// Snappy refused the input.
pub fn body(request: &WriteRequest) -> Result<Vec<u8>, CompressError> {
    let encoded = request.encode_to_vec();
    Ok(snap::raw::Encoder::new().compress_vec(&encoded)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_bytes_are_those_of_the_proto() {
        let request = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 1_700_000_000_000,
                }],
            }],
        };
        let bytes = request.encode_to_vec();
        // timeseries (field 1, length-delimited) > labels (field 1) > name, value;
        // samples (field 2) > double (field 1, fixed64), int64 (field 2, varint).
        let expected: Vec<u8> = [
            &[0x0a, 0x22, 0x0a, 0x0e, 0x0a, 0x08][..],
            b"__name__",
            &[0x12, 0x02],
            b"up",
            &[0x12, 0x10, 0x09],
            &1.0f64.to_le_bytes(),
            &[0x10, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31],
        ]
        .concat();
        assert_eq!(bytes, expected);
        let body = body(&request).expect("compresses");
        let back = snap::raw::Decoder::new()
            .decompress_vec(&body)
            .expect("snappy block");
        assert_eq!(
            WriteRequest::decode(back.as_slice()).expect("decodes"),
            request
        );
    }

    #[test]
    fn the_stale_marker_survives_encoding() {
        let sample = Sample {
            value: stale_nan(),
            timestamp: 5,
        };
        let back = Sample::decode(sample.encode_to_vec().as_slice()).expect("decodes");
        assert_eq!(back.value.to_bits(), STALE_NAN_BITS);
    }
}
