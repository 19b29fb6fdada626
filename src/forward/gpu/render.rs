//! Frames colour-mapped on the device (shaders/colormap.wgsl): the field stays on the
//! GPU and only the RGBA8 image comes back. Twin: `io::frames::render`.

use bytemuck::{Pod, Zeroable};
use image::RgbImage;

use crate::gpu::context::{self, GpuContext, GpuError, Kernels, READ, READ_WRITE, UNIFORM};
use crate::gpu::registry;
use crate::io::frames::{self, FrameStyle};

/// Uniform block of colormap.wgsl (same order, 32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct ColormapParams {
    n: u32,
    k: u32,
    width: u32,
    log_scale: u32,
    lo: f32,
    hi: f32,
    _pad: [u32; 2],
}

/// The layout of `ColormapParams`, checked against the shader by tests/kernel_registry.rs.
#[doc(hidden)]
pub const COLORMAP_PARAMS_LAYOUT: crate::gpu::registry::UniformLayout =
    crate::uniform_layout!(ColormapParams { n, k, width, log_scale, lo, hi });

/// Draws either of two field buffers (the stepper's ping-pong pair) at a fixed image
/// size; a style with another size needs a new renderer.
pub struct GpuRenderer {
    n: u32,
    k: u32,
    uniform: wgpu::Buffer,
    /// The colour map's 256 packed entries (written with each frame's style).
    table: wgpu::Buffer,
    pixels: wgpu::Buffer,
    staging: wgpu::Buffer,
    bind_groups: [wgpu::BindGroup; 2],
    pipeline: wgpu::ComputePipeline,
}

impl GpuRenderer {
    /// For 2D fields of `cells` per side drawn with `k` pixels per cell.
    pub fn new(ctx: &GpuContext, cells: usize, k: u32, fields: &[wgpu::Buffer; 2]) -> Result<Self, GpuError> {
        let n = cells as u32;
        let width = n as u64 * k as u64;
        let bytes = width * width * 4;
        let limits = ctx.device.limits();
        if bytes > limits.max_storage_buffer_binding_size || width > 16 * 65535 {
            return Err(GpuError::Other(format!(
                "a {width}×{width} frame ({bytes} bytes) exceeds the device's storage-buffer limit ({} bytes); lower output.min_pixels",
                limits.max_storage_buffer_binding_size
            )));
        }
        let buffer = |label, size, usage| ctx.buffer(label, size, usage);
        let uniform = buffer(
            "colormap params",
            std::mem::size_of::<ColormapParams>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let table =
            buffer("colour table", 256 * 4, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST);
        let pixels =
            buffer("frame pixels", bytes, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
        let staging =
            buffer("frame read-back", bytes, wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
        let m = registry::COLORMAP;
        let kernels = Kernels::new(ctx, m.name, m.source, &[UNIFORM, READ, READ_WRITE, READ], &["render"]);
        let bind = |f| kernels.bind_group(ctx, "colormap", &[&uniform, f, &pixels, &table]);
        let bind_groups = [bind(&fields[0]), bind(&fields[1])];
        let pipeline = kernels
            .pipelines
            .into_iter()
            .next()
            .ok_or_else(|| GpuError::Other("colormap.wgsl: missing pipeline".into()))?;
        Ok(Self { n, k, uniform, table, pixels, staging, bind_groups, pipeline })
    }

    /// Whether this renderer draws frames of the given size.
    pub fn fits(&self, cells: usize, k: u32) -> bool {
        self.n as usize == cells && self.k == k
    }

    /// Colour-map field buffer `which` (0 or 1) and read back the image.
    pub fn render(&self, ctx: &GpuContext, which: usize, style: &FrameStyle) -> Result<RgbImage, GpuError> {
        let width = self.n * self.k;
        let packed: Vec<u32> = frames::table(style.colormap)
            .iter()
            .map(|[r, g, b]| *r as u32 | (*g as u32) << 8 | (*b as u32) << 16)
            .collect();
        ctx.queue.write_buffer(&self.table, 0, bytemuck::cast_slice(&packed));
        let s = style.scale;
        let (lo, hi) = if s.log { (s.lo.log10(), s.hi.log10()) } else { (s.lo, s.hi) };
        let params = ColormapParams {
            n: self.n,
            k: self.k,
            width,
            log_scale: u32::from(s.log),
            lo: lo as f32,
            hi: hi as f32,
            _pad: [0; 2],
        };
        ctx.queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(&params));
        let mut encoder =
            ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("colormap") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("colormap"),
                timestamp_writes: None,
            });
            pass.set_bind_group(0, &self.bind_groups[which], &[]);
            pass.set_pipeline(&self.pipeline);
            pass.dispatch_workgroups(width.div_ceil(16), width.div_ceil(16), 1);
        }
        ctx.queue.submit(Some(encoder.finish()));
        let mut rgba = vec![0u8; (width as usize) * (width as usize) * 4];
        context::read_buffer(ctx, &self.pixels, &self.staging, &mut rgba)?;
        let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        RgbImage::from_raw(width, width, rgb).ok_or_else(|| GpuError::Other("frame size mismatch".into()))
    }
}
