//! [`DataParallel`]: Keras's data-parallel distribution, over MPI (feature `mpi`).

use std::cell::RefCell;

use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Root};
use mpi::Threading;

use super::Distribution;
use crate::{Error, Result};

/// Keras's `keras.distribution.DataParallel`, one process per replica over MPI: each process
/// trains on its contiguous shard of every global batch and the gradients are summed across
/// processes, so that `N` processes train the same model as one process on the whole batch
/// (see [the module docs](crate::distribution) for the rules).
///
/// Start the program under `mpiexec -n N`; started alone it is one process (MPI's singleton)
/// and `fit` behaves as without a distribution. MPI stays initialized while the value lives
/// and is finalized when it is dropped (once per program: a second
/// [`from_env`](DataParallel::from_env) fails).
///
/// A process that dies takes the whole job down: MPICH's `mpiexec` aborts every process when
/// one exits abnormally, and MPI errors are fatal (MPI's default handler), so nothing waits
/// forever on a dead peer.
///
/// # Examples
/// ```no_run
/// use keras_core::distribution::{DataParallel, Distribution};
///
/// // mpiexec -n 2 ./train
/// let dist = DataParallel::from_env()?;
/// println!("process {} of {}", dist.rank(), dist.num_processes());
/// // trainer.fit(&data).batch_size(64).distribution(&dist).run()?;
/// # Ok::<(), keras_core::Error>(())
/// ```
pub struct DataParallel {
    world: SimpleCommunicator,
    /// Receives each sum before it is copied back over the summed buffer (rsmpi 0.8 exposes
    /// no `MPI_IN_PLACE`); as long as the largest buffer reduced, allocated once.
    scratch: RefCell<Vec<f32>>,
    scratch_f64: RefCell<Vec<f64>>,
    /// This process's index among its host's processes.
    local_rank: usize,
    /// The GPUs' communicator, when [`with_nccl`](DataParallel::with_nccl) made one; dropped
    /// before MPI is finalized.
    #[cfg(feature = "nccl")]
    nccl: Option<super::Nccl>,
    // Last: MPI is finalized when the universe drops, after the communicator.
    _universe: Universe,
}

impl std::fmt::Debug for DataParallel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataParallel")
            .field("rank", &self.rank())
            .field("num_processes", &self.num_processes())
            .finish()
    }
}

impl DataParallel {
    /// Initializes MPI from the environment `mpiexec` set up (Keras's
    /// `DataParallel(devices=...)` with one device per process): this process's rank and the
    /// job's size come from MPI's world communicator.
    ///
    /// # Errors
    /// [`Error::Distribution`] when MPI was already initialized in this program.
    pub fn from_env() -> Result<Self> {
        let (universe, _threading) = mpi::initialize_with_threading(Threading::Funneled)
            .ok_or_else(|| {
                Error::Distribution(
                    "MPI is already initialized in this program; create one DataParallel and pass it by reference".into(),
                )
            })?;
        let world = universe.world();
        // A collective: every process starts the same way.
        let local_rank = usize::try_from(world.split_shared(0).rank()).unwrap_or(0);
        Ok(Self {
            world,
            local_rank,
            scratch: RefCell::new(Vec::new()),
            scratch_f64: RefCell::new(Vec::new()),
            #[cfg(feature = "nccl")]
            nccl: None,
            _universe: universe,
        })
    }

    /// Sums `fit`'s gradients on the GPUs with NCCL (feature `nccl`) instead of through host
    /// memory and MPI: joins `device` (this process's GPU; one per process) to an NCCL
    /// communicator of the job's processes, whose id process 0 creates and MPI hands out. A
    /// collective: every process calls it. The other collectives (metric states, logs) stay
    /// on MPI.
    ///
    /// # Examples
    /// ```no_run
    /// use keras_core::distribution::DataParallel;
    /// use keras_core::dfdx::tensor::Cuda;
    ///
    /// // mpiexec -n 2 ./train, one GPU per process
    /// let dist = DataParallel::from_env()?;
    /// let dev = Cuda::try_build(dist.local_rank(), 0).expect("a GPU per process");
    /// let dist = dist.with_nccl(&dev)?;
    /// // trainer.fit(&data).batch_size(256).distribution(&dist).run()?;
    /// # Ok::<(), keras_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Distribution`] when NCCL cannot create the communicator.
    #[cfg(feature = "nccl")]
    pub fn with_nccl(mut self, device: &dfdx::tensor::Cuda) -> Result<Self> {
        self.nccl = Some(super::Nccl::new(&self, device.cuda_device())?);
        Ok(self)
    }

    /// This process's index among the processes of its host (MPI's shared-memory split, taken
    /// once at [`from_env`](DataParallel::from_env)): which of the host's GPUs it should take.
    pub fn local_rank(&self) -> usize {
        self.local_rank
    }

    /// Replaces `bytes` with process 0's (every process passes as many).
    #[cfg(feature = "nccl")]
    pub(crate) fn broadcast_bytes(&self, bytes: &mut [u8]) {
        self.world.process_at_rank(0).broadcast_into(bytes);
    }

    /// Ends the whole job at once (`MPI_Abort`) with `code`: every process exits.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

impl Distribution for DataParallel {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn num_processes(&self) -> usize {
        self.world.size() as usize
    }

    fn all_reduce_sum(&self, values: &mut [f32]) -> Result<()> {
        let mut scratch = self.scratch.borrow_mut();
        if scratch.len() < values.len() {
            scratch.resize(values.len(), 0.0);
        }
        let sums = &mut scratch[..values.len()];
        self.world
            .all_reduce_into(&*values, sums, SystemOperation::sum());
        values.copy_from_slice(sums);
        Ok(())
    }

    fn all_reduce_sum_f64(&self, values: &mut [f64]) -> Result<()> {
        let mut scratch = self.scratch_f64.borrow_mut();
        if scratch.len() < values.len() {
            scratch.resize(values.len(), 0.0);
        }
        let sums = &mut scratch[..values.len()];
        self.world
            .all_reduce_into(&*values, sums, SystemOperation::sum());
        values.copy_from_slice(sums);
        Ok(())
    }

    fn broadcast(&self, values: &mut [f32]) -> Result<()> {
        self.world.process_at_rank(0).broadcast_into(values);
        Ok(())
    }

    #[cfg(feature = "nccl")]
    fn nccl(&self) -> Option<&super::Nccl> {
        self.nccl.as_ref()
    }

    fn all_gather(&self, local: &[f32]) -> Result<Vec<Vec<f32>>> {
        let size = self.num_processes();
        let len = i32::try_from(local.len()).map_err(|_| {
            Error::Distribution(format!("{} values are too many to gather", local.len()))
        })?;
        let mut counts = vec![0i32; size];
        self.world.all_gather_into(&len, &mut counts[..]);
        let displs: Vec<i32> = counts
            .iter()
            .scan(0i32, |acc, &c| {
                let d = *acc;
                *acc += c;
                Some(d)
            })
            .collect();
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        let mut all = vec![0.0f32; total];
        {
            let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            self.world.all_gather_varcount_into(local, &mut partition);
        }
        Ok(counts
            .iter()
            .zip(&displs)
            .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
            .collect())
    }
}
