//! Movies of a run's frames: an animated GIF (encoded here, one palette per frame) or an
//! MP4 through ffmpeg. Frames are taken in the order of their names (the step numbers).

use std::path::{Path, PathBuf};

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame};

use crate::error::{Error, Result};
use crate::kinds::MovieFormat;

/// The frame PNGs of a run directory, in step order.
pub fn frames_of(run_dir: &Path) -> Result<Vec<PathBuf>> {
    let dir = run_dir.join("frames");
    let mut frames: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| Error::io(&dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    frames.sort();
    Ok(frames)
}

/// Write `frames` as a movie at `out` (atomically), `fps` frames per second.
pub fn write_movie(frames: &[PathBuf], out: &Path, format: MovieFormat, fps: f64) -> Result<()> {
    if frames.is_empty() {
        return Err(Error::Data { path: out.to_path_buf(), message: "no frames to make a movie of".into() });
    }
    match format {
        MovieFormat::Gif => write_gif(frames, out, fps),
        MovieFormat::Mp4 => write_mp4(frames, out, fps),
    }
}

fn write_gif(frames: &[PathBuf], out: &Path, fps: f64) -> Result<()> {
    let delay = Delay::from_numer_denom_ms((1000.0 / fps).round().max(10.0) as u32, 1);
    let first = image::open(&frames[0])
        .map_err(|e| Error::Data { path: frames[0].clone(), message: e.to_string() })?;
    let (w, h) = (first.width(), first.height());
    super::write_atomic(out, |file| {
        let mut encoder = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
        encoder.set_repeat(Repeat::Infinite).map_err(std::io::Error::other)?;
        for path in frames {
            let image = image::open(path).map_err(std::io::Error::other)?.to_rgba8();
            // frames of one run share a size; another size is placed on a white canvas
            let image = if image.dimensions() == (w, h) {
                image
            } else {
                let mut canvas = image::RgbaImage::from_pixel(w, h, image::Rgba([255, 255, 255, 255]));
                image::imageops::replace(&mut canvas, &image, 0, 0);
                canvas
            };
            encoder.encode_frame(Frame::from_parts(image, 0, 0, delay)).map_err(std::io::Error::other)?;
        }
        Ok(())
    })
}

fn write_mp4(frames: &[PathBuf], out: &Path, fps: f64) -> Result<()> {
    if !crate::resources::ffmpeg_available() {
        return Err(Error::Unsupported(
            "an MP4 needs ffmpeg on PATH, and there is none; make a GIF instead".into(),
        ));
    }
    // ffmpeg reads the frames from a list (their names are step numbers, not a sequence)
    let parent = out.parent().unwrap_or(Path::new("."));
    let list = parent.join(".movie_frames.txt");
    let text: String = frames
        .iter()
        .map(|p| {
            format!("file '{}'\nduration {}\n", p.display().to_string().replace('\'', "'\\''"), 1.0 / fps)
        })
        .collect();
    super::write_text(&list, &text)?;
    let tmp = parent.join(format!(".{}.tmp.mp4", out.file_stem().unwrap_or_default().to_string_lossy()));
    let status = std::process::Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i"])
        .arg(&list)
        // even sizes for H.264, white padding
        .args(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white", "-pix_fmt", "yuv420p", "-c:v", "libx264"])
        // one video frame per PNG
        .args(["-r", &format!("{fps}")])
        .arg(&tmp)
        .status();
    let _ = std::fs::remove_file(&list);
    match status {
        Ok(s) if s.success() => std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e)),
        Ok(s) => {
            let _ = std::fs::remove_file(&tmp);
            Err(Error::Data { path: out.to_path_buf(), message: format!("ffmpeg failed ({s})") })
        }
        Err(e) => Err(Error::io(out, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GIF of three frames decodes to three frames of the first frame's size.
    #[test]
    fn gifs_hold_every_frame() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for k in 0..3u8 {
            let path = dir.path().join(format!("f_{k}.png"));
            image::RgbImage::from_pixel(40, 30, image::Rgb([80 * k, 10, 200])).save(&path).unwrap();
            paths.push(path);
        }
        let out = dir.path().join("movie.gif");
        write_movie(&paths, &out, MovieFormat::Gif, 4.0).unwrap();
        let decoder =
            image::codecs::gif::GifDecoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap()))
                .unwrap();
        let frames = image::AnimationDecoder::into_frames(decoder).collect_frames().unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[2].buffer().dimensions(), (40, 30));
        assert_eq!(frames[2].delay().numer_denom_ms(), (250, 1));
        assert!(write_movie(&[], &out, MovieFormat::Gif, 4.0).is_err());
    }
}
