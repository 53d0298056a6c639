//! [`Nccl`]: NVIDIA's collective library over the GPUs of a data-parallel job (feature `nccl`),
//! so that `fit` on `Cuda` sums each gradient on the device, where it was computed, instead of
//! through host memory and MPI.
//!
//! MPI stays the launcher: [`DataParallel::with_nccl`] has process 0 create NCCL's unique id,
//! sends it to every process with MPI, and joins each process's GPU to one NCCL communicator.

use std::ffi::c_void;
use std::sync::Arc;

use cudarc::driver::{CudaDevice, DevicePtrMut};
use cudarc::nccl::{result, sys};

use super::{DataParallel, Distribution};
use crate::{Error, Result};

/// One NCCL communicator: this process's GPU in the job's ring.
pub struct Nccl {
    comm: sys::ncclComm_t,
    device: Arc<CudaDevice>,
}

impl std::fmt::Debug for Nccl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nccl")
            .field("ordinal", &self.device.ordinal())
            .finish()
    }
}

fn nccl_error(what: &str, e: result::NcclError) -> Error {
    Error::Distribution(format!("NCCL {what} failed: {e:?}"))
}

impl Nccl {
    /// Joins `device` to a communicator of `dist`'s processes (a collective: every process
    /// calls it, in the same order as its other collectives).
    pub(crate) fn new(dist: &DataParallel, device: &Arc<CudaDevice>) -> Result<Self> {
        let mut id = [0u8; 128];
        if dist.is_chief() {
            let unique = result::get_uniqueid().map_err(|e| nccl_error("ncclGetUniqueId", e))?;
            for (to, &from) in id.iter_mut().zip(unique.internal.iter()) {
                *to = from as u8;
            }
        }
        dist.broadcast_bytes(&mut id);
        let mut internal = [0 as std::ffi::c_char; 128];
        for (to, &from) in internal.iter_mut().zip(id.iter()) {
            *to = from as std::ffi::c_char;
        }
        let world = i32::try_from(dist.num_processes())
            .map_err(|_| Error::Distribution("too many processes for NCCL".into()))?;
        let rank = i32::try_from(dist.rank())
            .map_err(|_| Error::Distribution("too many processes for NCCL".into()))?;
        device
            .bind_to_thread()
            .map_err(|e| Error::Distribution(format!("binding the GPU for NCCL: {e:?}")))?;
        let mut comm = std::mem::MaybeUninit::uninit();
        // SAFETY: `comm` is written by NCCL before it is read (only on success); the id is the
        // one process 0 created, the same on every process; the device's context is current.
        let comm = unsafe {
            result::comm_init_rank(
                comm.as_mut_ptr(),
                world,
                sys::ncclUniqueId { internal },
                rank,
            )
            .map_err(|e| nccl_error("ncclCommInitRank", e))?;
            comm.assume_init()
        };
        Ok(Self {
            comm,
            device: Arc::clone(device),
        })
    }

    /// Replaces the first `len` values of `buffer` with their sum over every process, in place,
    /// on the device's stream (ordered after the kernels that wrote it and before those that
    /// read it; the host does not wait).
    pub(crate) fn all_reduce_sum(
        &self,
        buffer: &mut cudarc::driver::CudaSlice<f32>,
        len: usize,
    ) -> Result<()> {
        if len > cudarc::driver::DeviceSlice::len(buffer) {
            return Err(Error::invalid(
                "buffer",
                format!("{len} values to sum in a buffer of fewer"),
            ));
        }
        let ptr = *buffer.device_ptr_mut() as *mut c_void;
        let stream = *self.device.cu_stream() as sys::cudaStream_t;
        // SAFETY: `ptr` is a live device buffer of at least `len` f32 values on this
        // communicator's device, held mutably for the call; NCCL allows the same buffer as
        // input and output (in place); the operation is queued on the device's stream.
        unsafe {
            result::all_reduce(
                ptr,
                ptr,
                len,
                sys::ncclDataType_t::ncclFloat32,
                sys::ncclRedOp_t::ncclSum,
                self.comm,
                stream,
            )
        }
        .map(|_| ())
        .map_err(|e| nccl_error("ncclAllReduce", e))
    }
}

impl Drop for Nccl {
    fn drop(&mut self) {
        // SAFETY: `comm` was created by `ncclCommInitRank` and is destroyed once, here.
        let _ = unsafe { result::comm_destroy(self.comm) };
    }
}
