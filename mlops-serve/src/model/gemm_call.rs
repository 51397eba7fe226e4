//! The one call into the `gemm` crate, whose entry point takes raw pointers
//! and strides. Every bound is checked here, before the call, so the rest of
//! the crate only sees a safe function. It is the same kernel Candle's CPU
//! matmul calls; we call it ourselves to choose its threading (none: the
//! predictor spreads rows over workers) and the strides (column-major Arrow
//! input is read in place, and outputs are written column by column).

use mlops_core::{Error, Result};

/// A matrix view over a slice: element `(r, c)` is at `r * row_stride + c * col_stride`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl Layout {
    /// Row-major `rows × cols`.
    pub(crate) fn row_major(rows: usize, cols: usize) -> Self {
        Layout {
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// Column-major `rows × cols` whose columns are `stride` apart (`stride ≥ rows`).
    pub(crate) fn col_major(rows: usize, cols: usize, stride: usize) -> Self {
        Layout {
            rows,
            cols,
            row_stride: 1,
            col_stride: stride,
        }
    }

    /// Whether every element lies inside a slice of `len` values.
    fn fits(&self, len: usize) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1).checked_mul(self.row_stride).and_then(|a| {
            (self.cols - 1)
                .checked_mul(self.col_stride)
                .and_then(|b| a.checked_add(b))
        });
        matches!(last, Some(last) if last < len && last <= isize::MAX as usize)
    }

    /// Whether distinct elements have distinct offsets (needed of a destination).
    fn is_one_to_one(&self) -> bool {
        (self.col_stride == 1 && (self.rows <= 1 || self.row_stride >= self.cols))
            || (self.row_stride == 1 && (self.cols <= 1 || self.col_stride >= self.rows))
    }
}

/// `dst = lhs · rhs` on the calling thread, `f32`.
pub(crate) fn matmul(
    dst: &mut [f32],
    dst_layout: Layout,
    lhs: &[f32],
    lhs_layout: Layout,
    rhs: &[f32],
    rhs_layout: Layout,
) -> Result<()> {
    let (m, k, n) = (lhs_layout.rows, lhs_layout.cols, rhs_layout.cols);
    let shapes_agree = rhs_layout.rows == k && dst_layout.rows == m && dst_layout.cols == n;
    if !shapes_agree
        || !dst_layout.fits(dst.len())
        || !lhs_layout.fits(lhs.len())
        || !rhs_layout.fits(rhs.len())
        || !dst_layout.is_one_to_one()
    {
        return Err(Error::invalid_input(
            "matrix product",
            "dense layer",
            format!(
                "dst {dst_layout:?} ({}), lhs {lhs_layout:?} ({}), rhs {rhs_layout:?} ({})",
                dst.len(),
                lhs.len(),
                rhs.len()
            ),
            "matching shapes inside their buffers",
        ));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        dst.iter_mut().for_each(|v| *v = 0.0);
        return Ok(());
    }
    #[allow(unsafe_code)]
    // SAFETY: `fits` proved every element of the three views lies inside its
    // slice (offsets ≤ isize::MAX, so the stride casts are lossless);
    // `is_one_to_one` proved no two destination elements share an offset; and
    // `dst` is a unique borrow, so it aliases neither input. T = f32 is one of
    // gemm's supported types. With `read_dst = false` gemm writes
    // `beta · lhs · rhs` without reading `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_layout.col_stride as isize,
            dst_layout.row_stride as isize,
            false,
            lhs.as_ptr(),
            lhs_layout.col_stride as isize,
            lhs_layout.row_stride as isize,
            rhs.as_ptr(),
            rhs_layout.col_stride as isize,
            rhs_layout.row_stride as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn column_major_input_times_row_major_weights_into_column_major_output() {
        // x: 2 rows × 3 features, stored feature-major; w: 3 × 2 row-major.
        let x_cols = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let w = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut out = [0.0f32; 4];
        matmul(
            &mut out,
            Layout::col_major(2, 2, 2),
            &x_cols,
            Layout::col_major(2, 3, 2),
            &w,
            Layout::row_major(3, 2),
        )
        .unwrap();
        // Row 0: [1,2,3]·w = [4, 5]; row 1: [4,5,6]·w = [10, 11]; output-major.
        assert_eq!(out, [4.0, 10.0, 5.0, 11.0]);
    }

    #[test]
    fn views_that_do_not_fit_their_buffers_are_refused() {
        let mut out = [0.0f32; 3];
        let e = matmul(
            &mut out,
            Layout::row_major(2, 2),
            &[1.0; 4],
            Layout::row_major(2, 2),
            &[1.0; 4],
            Layout::row_major(2, 2),
        );
        assert!(e.is_err());
        let mut out = [0.0f32; 4];
        let overlapping = Layout {
            rows: 2,
            cols: 2,
            row_stride: 1,
            col_stride: 1,
        };
        assert!(
            matmul(
                &mut out,
                overlapping,
                &[1.0; 4],
                Layout::row_major(2, 2),
                &[1.0; 4],
                Layout::row_major(2, 2)
            )
            .is_err()
        );
    }
}
