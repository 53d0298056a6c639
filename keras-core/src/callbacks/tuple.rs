//! `Callback` for tuples: Keras's `CallbackList`, with every hook forwarded in order.

use super::{Callback, CallbackContext};
use crate::Result;

impl Callback for () {
    fn reads_batch_logs(&self) -> bool {
        false
    }
}

impl<A: Callback + ?Sized> Callback for &mut A {
    fn reads_batch_logs(&self) -> bool {
        (**self).reads_batch_logs()
    }
    fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (**self).on_train_begin(ctx)
    }
    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (**self).on_train_end(ctx)
    }
    fn on_epoch_begin<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        (**self).on_epoch_begin(epoch, ctx)
    }
    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        (**self).on_epoch_end(epoch, ctx)
    }
    fn on_train_batch_begin<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
        (**self).on_train_batch_begin(b, ctx)
    }
    fn on_train_batch_end<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
        (**self).on_train_batch_end(b, ctx)
    }
    fn on_test_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (**self).on_test_begin(ctx)
    }
    fn on_test_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (**self).on_test_end(ctx)
    }
    fn on_test_batch_begin<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
        (**self).on_test_batch_begin(b, ctx)
    }
    fn on_test_batch_end<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
        (**self).on_test_batch_end(b, ctx)
    }
    fn on_predict_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (**self).on_predict_begin(ctx)
    }
    fn on_predict_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (**self).on_predict_end(ctx)
    }
    fn on_predict_batch_begin<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
        (**self).on_predict_batch_begin(b, ctx)
    }
    fn on_predict_batch_end<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
        (**self).on_predict_batch_end(b, ctx)
    }
    fn state(&self) -> Option<serde_json::Value> {
        (**self).state()
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        (**self).load_state(state)
    }
    fn wants_snapshot(&self) -> bool {
        (**self).wants_snapshot()
    }
    fn on_snapshot<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (**self).on_snapshot(ctx)
    }
}

/// An optional callback: `None` does nothing.
impl<A: Callback> Callback for Option<A> {
    fn reads_batch_logs(&self) -> bool {
        self.as_ref().is_some_and(A::reads_batch_logs)
    }
    fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_train_begin(ctx))
    }
    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_train_end(ctx))
    }
    fn on_test_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_test_begin(ctx))
    }
    fn on_test_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_test_end(ctx))
    }
    fn on_predict_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_predict_begin(ctx))
    }
    fn on_predict_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_predict_end(ctx))
    }
    fn on_epoch_begin<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_epoch_begin(i, ctx))
    }
    fn on_epoch_end<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_epoch_end(i, ctx))
    }
    fn on_train_batch_begin<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut()
            .map_or(Ok(()), |a| a.on_train_batch_begin(i, ctx))
    }
    fn on_train_batch_end<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut()
            .map_or(Ok(()), |a| a.on_train_batch_end(i, ctx))
    }
    fn on_test_batch_begin<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut()
            .map_or(Ok(()), |a| a.on_test_batch_begin(i, ctx))
    }
    fn on_test_batch_end<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut()
            .map_or(Ok(()), |a| a.on_test_batch_end(i, ctx))
    }
    fn on_predict_batch_begin<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut()
            .map_or(Ok(()), |a| a.on_predict_batch_begin(i, ctx))
    }
    fn on_predict_batch_end<C: CallbackContext>(&mut self, i: usize, ctx: &mut C) -> Result<()> {
        self.as_mut()
            .map_or(Ok(()), |a| a.on_predict_batch_end(i, ctx))
    }
    fn state(&self) -> Option<serde_json::Value> {
        self.as_ref().and_then(|a| a.state())
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.load_state(state))
    }
    fn wants_snapshot(&self) -> bool {
        self.as_ref().is_some_and(A::wants_snapshot)
    }
    fn on_snapshot<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.as_mut().map_or(Ok(()), |a| a.on_snapshot(ctx))
    }
}

macro_rules! tuple_callback {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Callback),+> Callback for ($($name,)+) {
            fn reads_batch_logs(&self) -> bool {
                false $(|| self.$idx.reads_batch_logs())+
            }
            fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_train_begin(ctx)?;)+ Ok(())
            }
            fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_train_end(ctx)?;)+ Ok(())
            }
            fn on_epoch_begin<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_epoch_begin(epoch, ctx)?;)+ Ok(())
            }
            fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_epoch_end(epoch, ctx)?;)+ Ok(())
            }
            fn on_train_batch_begin<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_train_batch_begin(b, ctx)?;)+ Ok(())
            }
            fn on_train_batch_end<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_train_batch_end(b, ctx)?;)+ Ok(())
            }
            fn on_test_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_test_begin(ctx)?;)+ Ok(())
            }
            fn on_test_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_test_end(ctx)?;)+ Ok(())
            }
            fn on_test_batch_begin<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_test_batch_begin(b, ctx)?;)+ Ok(())
            }
            fn on_test_batch_end<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_test_batch_end(b, ctx)?;)+ Ok(())
            }
            fn on_predict_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_predict_begin(ctx)?;)+ Ok(())
            }
            fn on_predict_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_predict_end(ctx)?;)+ Ok(())
            }
            fn on_predict_batch_begin<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_predict_batch_begin(b, ctx)?;)+ Ok(())
            }
            fn on_predict_batch_end<C: CallbackContext>(&mut self, b: usize, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_predict_batch_end(b, ctx)?;)+ Ok(())
            }
            fn state(&self) -> Option<serde_json::Value> {
                let states = vec![$(self.$idx.state().unwrap_or(serde_json::Value::Null)),+];
                Some(serde_json::Value::Array(states))
            }
            fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
                let Some(states) = state.as_array() else {
                    return Err(crate::Error::invalid("state", "expected a JSON array with one entry per callback"));
                };
                $(if let Some(s) = states.get($idx) { if !s.is_null() { self.$idx.load_state(s)?; } })+
                Ok(())
            }
            fn wants_snapshot(&self) -> bool {
                false $(|| self.$idx.wants_snapshot())+
            }
            fn on_snapshot<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
                $(self.$idx.on_snapshot(ctx)?;)+ Ok(())
            }
        }
    };
}

tuple_callback!(T0 0);
tuple_callback!(T0 0, T1 1);
tuple_callback!(T0 0, T1 1, T2 2);
tuple_callback!(T0 0, T1 1, T2 2, T3 3);
tuple_callback!(T0 0, T1 1, T2 2, T3 3, T4 4);
tuple_callback!(T0 0, T1 1, T2 2, T3 3, T4 4, T5 5);
tuple_callback!(T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6);
tuple_callback!(T0 0, T1 1, T2 2, T3 3, T4 4, T5 5, T6 6, T7 7);
