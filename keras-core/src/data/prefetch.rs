//! Host-side batch assembly on a background thread, so data preparation overlaps compute.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::Scope;

use super::{Batch, DataAdapter};
use crate::{Error, Result};

enum Command {
    StartPass(u64),
}

type Item = (u64, Result<Option<Batch>>);

/// A [`DataAdapter`] that runs another one on a scoped background thread, `depth` batches
/// ahead. Batch buffers circulate between the two threads and are reused: once warm, no batch
/// is allocated.
pub struct Prefetch {
    commands: Sender<Command>,
    batches: Receiver<Item>,
    free: SyncSender<Batch>,
    generation: u64,
    exhausted: bool,
    num_batches: Option<usize>,
}

impl Prefetch {
    /// Moves `adapter` onto a thread of `scope` and returns the adapter to use instead.
    pub fn spawn<'scope, 'env, A: DataAdapter + 'scope>(
        scope: &'scope Scope<'scope, 'env>,
        adapter: A,
        depth: usize,
    ) -> Self {
        let depth = depth.max(1);
        let num_batches = adapter.num_batches();
        let (cmd_tx, cmd_rx) = channel::<Command>();
        let (item_tx, item_rx) = sync_channel::<Item>(depth);
        let (free_tx, free_rx) = sync_channel::<Batch>(depth + 2);
        for _ in 0..depth + 1 {
            // The channel has room for every buffer: this cannot block or fail.
            let _ = free_tx.send(Batch::default());
        }
        scope.spawn(move || producer(adapter, cmd_rx, item_tx, free_rx));
        Self {
            commands: cmd_tx,
            batches: item_rx,
            free: free_tx,
            generation: 0,
            exhausted: true,
            num_batches,
        }
    }
}

fn producer<A: DataAdapter>(
    mut adapter: A,
    commands: Receiver<Command>,
    items: SyncSender<Item>,
    free: Receiver<Batch>,
) {
    let mut pending: Option<u64> = None;
    // A buffer that was not handed out (end of a pass) is kept here for the next batch.
    let mut spare: Option<Batch> = None;
    loop {
        let generation = match pending.take() {
            Some(g) => g,
            None => match commands.recv() {
                Ok(Command::StartPass(g)) => g,
                Err(_) => return,
            },
        };
        if let Err(e) = adapter.start_pass() {
            if items.send((generation, Err(e))).is_err() {
                return;
            }
            continue;
        }
        loop {
            match commands.try_recv() {
                Ok(Command::StartPass(g)) => {
                    pending = Some(g);
                    break;
                }
                Err(TryRecvError::Disconnected) => return,
                Err(TryRecvError::Empty) => {}
            }
            let mut buf = match spare.take() {
                Some(b) => b,
                None => match free.recv() {
                    Ok(b) => b,
                    Err(_) => return,
                },
            };
            let item = match adapter.next_batch(&mut buf) {
                Ok(true) => Ok(Some(buf)),
                Ok(false) => {
                    spare = Some(buf);
                    Ok(None)
                }
                Err(e) => {
                    spare = Some(buf);
                    Err(e)
                }
            };
            let done = !matches!(item, Ok(Some(_)));
            if items.send((generation, item)).is_err() {
                return;
            }
            if done {
                break;
            }
        }
    }
}

impl DataAdapter for Prefetch {
    fn num_batches(&self) -> Option<usize> {
        self.num_batches
    }

    fn start_pass(&mut self) -> Result<()> {
        self.generation += 1;
        self.exhausted = false;
        self.commands
            .send(Command::StartPass(self.generation))
            .map_err(|_| Error::Device("the prefetch thread stopped".into()))
    }

    fn next_batch(&mut self, out: &mut Batch) -> Result<bool> {
        if self.exhausted {
            return Ok(false);
        }
        loop {
            let (generation, item) = self
                .batches
                .recv()
                .map_err(|_| Error::Device("the prefetch thread stopped".into()))?;
            if generation != self.generation {
                if let Ok(Some(b)) = item {
                    let _ = self.free.send(b);
                }
                continue;
            }
            return match item {
                Ok(Some(mut b)) => {
                    std::mem::swap(out, &mut b);
                    let _ = self.free.send(b);
                    Ok(true)
                }
                Ok(None) => {
                    self.exhausted = true;
                    Ok(false)
                }
                Err(e) => {
                    self.exhausted = true;
                    Err(e)
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ArrayAdapter, ArrayDataset, EpochIterator, Shuffle};
    use crate::target::Dense;
    use dfdx::shapes::Rank1;

    #[test]
    fn prefetching_yields_the_same_batches_as_direct_iteration() {
        let x: Vec<f32> = (0..23).map(|i| i as f32).collect();
        let d = ArrayDataset::<Rank1<1>, Dense<1>>::new(x.clone(), x).unwrap();
        fn collect<A: DataAdapter>(it: &mut EpochIterator<A>) -> Vec<Vec<f32>> {
            let mut all = Vec::new();
            for _ in 0..12 {
                it.begin_epoch().unwrap();
                while let Some((_, b)) = it.next_group().unwrap() {
                    all.push(b[0].x.clone());
                }
            }
            all
        }
        let direct = {
            let a = ArrayAdapter::new(&d, 4)
                .unwrap()
                .with_shuffle(Shuffle::Full, 9);
            collect(&mut EpochIterator::new(a, Some(4), 1).unwrap())
        };
        let prefetched = std::thread::scope(|s| {
            let a = ArrayAdapter::new(&d, 4)
                .unwrap()
                .with_shuffle(Shuffle::Full, 9);
            let p = Prefetch::spawn(s, a, 2);
            collect(&mut EpochIterator::new(p, Some(4), 1).unwrap())
        });
        assert_eq!(direct, prefetched);
    }
}
