//! Strips what a photo says about where and when it was taken (EXIF with
//! its GPS position, XMP, comments, text chunks) from JPEG, PNG and WebP,
//! copying the picture itself untouched: segment by segment, through
//! buffered readers, so a 10 MB photo never sits in memory whole (decoding
//! and re-encoding it would take tens of MB per upload). A JPEG keeps its
//! orientation, rewritten as the only EXIF field, so a phone's portrait
//! photo still stands upright.

use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};

/// Why a picture could not be read as the type its first bytes said.
#[derive(Debug, thiserror::Error)]
pub enum StripError {
    #[error("the picture is damaged: {0}")]
    Damaged(&'static str),
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn damaged<T>(what: &'static str) -> Result<T, StripError> {
    Err(StripError::Damaged(what))
}

/// Copies `input` to `output` without its metadata, by `content_type`.
/// Types without metadata of that kind (GIF) are copied as they are.
pub fn strip<R: BufRead + Seek, W: Write>(
    content_type: &str,
    input: &mut R,
    output: &mut W,
) -> Result<(), StripError> {
    match content_type {
        "image/jpeg" => jpeg(input, output),
        "image/png" => png(input, output),
        "image/webp" => webp(input, output),
        _ => {
            io::copy(input, output)?;
            Ok(())
        }
    }
}

fn read_array<const N: usize, R: Read>(input: &mut R) -> Result<[u8; N], StripError> {
    let mut bytes = [0u8; N];
    input.read_exact(&mut bytes).map_err(|err| {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            StripError::Damaged("it ends too soon")
        } else {
            StripError::Io(err)
        }
    })?;
    Ok(bytes)
}

/// Copies exactly `len` bytes.
fn copy_exact<R: Read, W: Write>(
    input: &mut R,
    output: &mut W,
    len: u64,
) -> Result<(), StripError> {
    let copied = io::copy(&mut input.take(len), output)?;
    if copied < len {
        return damaged("it ends too soon");
    }
    Ok(())
}

/// Skips exactly `len` bytes.
fn skip<R: Read>(input: &mut R, len: u64) -> Result<(), StripError> {
    copy_exact(input, &mut io::sink(), len)
}

const EXIF_HEADER: &[u8] = b"Exif\0\0";

/// JPEG: markers up to the first scan; after it, the compressed picture
/// is copied whole. APP1 (EXIF, XMP), APP3–APP13, APP15 and comments are
/// dropped; APP0 (JFIF), APP2 (colour profile) and APP14 (Adobe colour
/// transform) are kept, as are all tables.
fn jpeg<R: BufRead, W: Write>(input: &mut R, output: &mut W) -> Result<(), StripError> {
    if read_array::<2, _>(input)? != [0xFF, 0xD8] {
        return damaged("no JPEG start");
    }
    output.write_all(&[0xFF, 0xD8])?;
    loop {
        let [first, mut code] = read_array::<2, _>(input)?;
        if first != 0xFF {
            return damaged("a JPEG marker is missing");
        }
        while code == 0xFF {
            code = read_array::<1, _>(input)?[0];
        }
        match code {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                output.write_all(&[0xFF, code])?;
                continue;
            }
            0xD9 => {
                output.write_all(&[0xFF, code])?;
                return Ok(());
            }
            _ => {}
        }
        let length = u16::from_be_bytes(read_array::<2, _>(input)?);
        if length < 2 {
            return damaged("a JPEG segment is too short");
        }
        let body = u64::from(length - 2);
        match code {
            0xE1 => {
                // EXIF (64 KB at most): read for its orientation, dropped.
                let mut segment = vec![0u8; body as usize];
                input.read_exact(&mut segment)?;
                if let Some(tiff) = segment.strip_prefix(EXIF_HEADER)
                    && let Some(orientation) = orientation(tiff)
                {
                    output.write_all(&orientation_segment(orientation))?;
                }
            }
            0xE3..=0xED | 0xEF | 0xFE => skip(input, body)?,
            0xDA => {
                // Start of scan: the rest is the picture.
                output.write_all(&[0xFF, code])?;
                output.write_all(&length.to_be_bytes())?;
                io::copy(input, output)?;
                return Ok(());
            }
            _ => {
                output.write_all(&[0xFF, code])?;
                output.write_all(&length.to_be_bytes())?;
                copy_exact(input, output, body)?;
            }
        }
    }
}

/// The orientation an EXIF block (from its TIFF header on) gives, if not
/// the upright 1.
fn orientation(tiff: &[u8]) -> Option<u16> {
    let exif = exif::Reader::new().read_raw(tiff.to_vec()).ok()?;
    let value = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
        .value
        .get_uint(0)?;
    u16::try_from(value).ok().filter(|v| (2..=8).contains(v))
}

/// An APP1 segment whose EXIF holds the orientation alone.
fn orientation_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD0 at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let length = u16::try_from(2 + EXIF_HEADER.len() + tiff.len()).unwrap_or(u16::MAX);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&length.to_be_bytes());
    segment.extend_from_slice(EXIF_HEADER);
    segment.extend_from_slice(&tiff);
    segment
}

/// PNG chunks that say things about the picture's origin, not its pixels.
const PNG_DROPPED: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];

/// PNG: chunk by chunk, dropping text, time and EXIF chunks.
fn png<R: BufRead, W: Write>(input: &mut R, output: &mut W) -> Result<(), StripError> {
    const SIGNATURE: [u8; 8] = *b"\x89PNG\r\n\x1a\n";
    if read_array::<8, _>(input)? != SIGNATURE {
        return damaged("no PNG signature");
    }
    output.write_all(&SIGNATURE)?;
    loop {
        let length = read_array::<4, _>(input)?;
        let kind = read_array::<4, _>(input)?;
        let body = u64::from(u32::from_be_bytes(length)) + 4; // with its CRC
        if PNG_DROPPED.contains(&&kind) {
            skip(input, body)?;
        } else {
            output.write_all(&length)?;
            output.write_all(&kind)?;
            copy_exact(input, output, body)?;
        }
        if &kind == b"IEND" {
            return Ok(());
        }
    }
}

/// WebP: RIFF chunks, dropping EXIF and XMP, their flags cleared in VP8X
/// and the RIFF size made to fit (read twice: sizes first).
fn webp<R: BufRead + Seek, W: Write>(input: &mut R, output: &mut W) -> Result<(), StripError> {
    const DROPPED: [&[u8; 4]; 2] = [b"EXIF", b"XMP "];
    let start = input.stream_position()?;
    let header = read_array::<12, _>(input)?;
    if &header[..4] != b"RIFF" || &header[8..] != b"WEBP" {
        return damaged("no WebP header");
    }
    let riff_end = start
        + 8
        + u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
    // First pass: how long the kept chunks are.
    let mut kept: u64 = 4; // "WEBP"
    let mut at = start + 12;
    while at < riff_end {
        let chunk = read_array::<8, _>(input)?;
        let size = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        let padded = size + (size & 1);
        if !DROPPED.iter().any(|d| d[..] == chunk[..4]) {
            kept += 8 + padded;
        }
        at += 8 + padded;
        input.seek(SeekFrom::Start(at))?;
    }
    let Ok(kept) = u32::try_from(kept) else {
        return damaged("a WebP too large");
    };
    output.write_all(b"RIFF")?;
    output.write_all(&kept.to_le_bytes())?;
    output.write_all(b"WEBP")?;
    input.seek(SeekFrom::Start(start + 12))?;
    let mut at = start + 12;
    while at < riff_end {
        let chunk = read_array::<8, _>(input)?;
        let size = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        let padded = size + (size & 1);
        if DROPPED.iter().any(|d| d[..] == chunk[..4]) {
            skip(input, padded)?;
        } else if &chunk[..4] == b"VP8X" && padded >= 1 {
            output.write_all(&chunk)?;
            let flags = read_array::<1, _>(input)?[0] & !(0x08 | 0x04);
            output.write_all(&[flags])?;
            copy_exact(input, output, padded - 1)?;
        } else {
            output.write_all(&chunk)?;
            copy_exact(input, output, padded)?;
        }
        at += 8 + padded;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn stripped(content_type: &str, input: &[u8]) -> Vec<u8> {
        let mut output = Vec::new();
        strip(content_type, &mut Cursor::new(input), &mut output).expect("strips");
        output
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// An EXIF block saying orientation 6 and a GPS position.
    fn exif_with_gps() -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
        tiff.extend_from_slice(&2u16.to_be_bytes());
        // Orientation = 6
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        // GPS IFD pointer at offset 38
        tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
        tiff.extend_from_slice(&0u32.to_be_bytes());
        // GPS IFD: GPSLatitudeRef = "N"
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&[0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
        tiff.extend_from_slice(&0u32.to_be_bytes());
        let mut block = EXIF_HEADER.to_vec();
        block.extend_from_slice(&tiff);
        block
    }

    #[test]
    fn a_jpeg_loses_its_exif_but_keeps_its_orientation_and_picture() {
        let exif = exif_with_gps();
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 6, b'J', b'F', b'I', b'F'];
        jpeg.extend_from_slice(&[0xFF, 0xE1]);
        jpeg.extend_from_slice(&u16::try_from(exif.len() + 2).expect("small").to_be_bytes());
        jpeg.extend_from_slice(&exif);
        jpeg.extend_from_slice(&[0xFF, 0xFE, 0, 7, b'h', b'e', b'l', b'l', b'o']);
        jpeg.extend_from_slice(&[0xFF, 0xDB, 0, 3, 42]);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 2, 1, 2, 3, 0xFF, 0xD9]);
        let out = stripped("image/jpeg", &jpeg);
        assert!(!contains(&out, &[0x88, 0x25]), "the GPS pointer is gone");
        assert!(!contains(&out, b"hello"), "the comment is gone");
        assert!(contains(&out, b"JFIF"));
        assert!(contains(&out, &[0xFF, 0xDB, 0, 3, 42]), "tables kept");
        assert!(out.ends_with(&[0xFF, 0xDA, 0, 2, 1, 2, 3, 0xFF, 0xD9]));
        let kept = out
            .windows(EXIF_HEADER.len())
            .position(|w| w == EXIF_HEADER)
            .expect("orientation kept");
        assert_eq!(orientation(&out[kept + EXIF_HEADER.len()..]), Some(6));
    }

    #[test]
    fn a_png_loses_its_text_and_exif_chunks() {
        fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
            let mut c = u32::try_from(data.len())
                .expect("small")
                .to_be_bytes()
                .to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[1, 2, 3, 4]);
            c
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"eXIf", b"GPS secret"));
        png.extend(chunk(b"tEXt", b"Author\0me"));
        png.extend(chunk(b"IDAT", b"pixels"));
        png.extend(chunk(b"IEND", b""));
        let out = stripped("image/png", &png);
        assert!(!contains(&out, b"GPS secret") && !contains(&out, b"Author"));
        assert!(contains(&out, b"pixels") && out.ends_with(&chunk(b"IEND", b"")));
    }

    #[test]
    fn a_webp_loses_exif_and_xmp_and_its_sizes_still_add_up() {
        fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
            let mut c = kind.to_vec();
            c.extend_from_slice(&u32::try_from(data.len()).expect("small").to_le_bytes());
            c.extend_from_slice(data);
            if data.len() % 2 == 1 {
                c.push(0);
            }
            c
        }
        let mut body = b"WEBP".to_vec();
        body.extend(chunk(b"VP8X", &[0x0C, 0, 0, 0, 1, 0, 0, 1, 0, 0]));
        body.extend(chunk(b"VP8L", b"pixels!"));
        body.extend(chunk(b"EXIF", b"GPS secret"));
        body.extend(chunk(b"XMP ", b"<x:xmpmeta/>"));
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&u32::try_from(body.len()).expect("small").to_le_bytes());
        webp.extend(body);
        let out = stripped("image/webp", &webp);
        assert!(!contains(&out, b"GPS secret") && !contains(&out, b"xmpmeta"));
        assert!(contains(&out, b"pixels!"));
        let riff = u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize;
        assert_eq!(riff + 8, out.len());
        assert_eq!(out[20] & 0x0C, 0, "the flags no longer promise metadata");
    }

    #[test]
    fn a_truncated_picture_is_refused_not_copied_half() {
        let mut output = Vec::new();
        let result = strip(
            "image/png",
            &mut Cursor::new(b"\x89PNG\r\n\x1a\n\0\0\0\x10IHDR".to_vec()),
            &mut output,
        );
        assert!(matches!(result, Err(StripError::Damaged(_))));
    }
}
