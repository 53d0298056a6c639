//! `KerasDevice::try_upload_into` on [`TestDevice`](common::TestDevice): uploads through one
//! staging (on `Cuda` a ring of pinned buffers, reused after a few uploads and grown for longer
//! ones) land in their buffers in order, even when the host reuses its values at once, and a
//! buffer too short for the values is an error that leaves it as it was; and
//! `KerasDevice::try_upload_tensor` (a new tensor, on `Cuda` not zero-filled first) holds exactly
//! its values, and refuses values that are not as many as its elements.
// On `Cpu` the staging is `()`; the tests hold it as any device's.
#![allow(clippy::let_unit_value)]

mod common;

use common::test_device;
use keras_core::device::KerasDevice;
use keras_core::dfdx::tensor::Storage;

#[test]
fn many_uploads_through_one_staging_each_land_in_their_buffer() {
    let dev = test_device(0);
    let mut staging = dev.try_staging().unwrap();
    let mut values = Vec::new();
    let mut buffers = Vec::new();
    // More uploads than the ring has buffers, of growing and shrinking lengths, from one host
    // vector overwritten after each call.
    for i in 0..40usize {
        let len = 1 + (i * 37) % 300;
        values.clear();
        values.extend((0..len).map(|j| (i * 1000 + j) as f32));
        let mut buffer = Storage::<f32>::try_alloc_len(&dev, len + 3).unwrap();
        dev.try_upload_into(&mut staging, &values, &mut buffer)
            .unwrap();
        values.iter_mut().for_each(|v| *v = -1.0);
        buffers.push((i, len, buffer));
    }
    for (i, len, buffer) in &buffers {
        let mut got = vec![0.0f32; *len];
        dev.try_download(buffer, &mut got).unwrap();
        let want: Vec<f32> = (0..*len).map(|j| (i * 1000 + j) as f32).collect();
        assert_eq!(got, want, "upload {i}");
    }
}

#[test]
fn a_buffer_shorter_than_the_values_is_an_error_and_keeps_its_contents() {
    let dev = test_device(0);
    let mut staging = dev.try_staging().unwrap();
    let mut buffer = dev.try_upload(&[1.0, 2.0]).unwrap();
    assert!(dev
        .try_upload_into(&mut staging, &[5.0, 6.0, 7.0], &mut buffer)
        .is_err());
    let mut got = [0.0f32; 2];
    dev.try_download(&buffer, &mut got).unwrap();
    assert_eq!(got, [1.0, 2.0]);
}

#[test]
fn an_uploaded_tensor_holds_its_values_and_a_wrong_count_is_an_error() {
    use keras_core::dfdx::prelude::*;
    let dev = test_device(0);
    let mut staging = dev.try_staging().unwrap();
    // Many tensors, so that on `Cuda` later ones take buffers an earlier one left in the cache.
    for round in 0..6usize {
        let rows = 3 + round;
        let values: Vec<f32> = (0..rows * 4).map(|i| (round * 100 + i) as f32).collect();
        let t = dev
            .try_upload_tensor(&mut staging, &values, (rows, Const::<4>))
            .unwrap();
        assert_eq!(t.as_vec(), values, "round {round}");
        drop(t);
    }
    for wrong in [5usize, 7] {
        let values = vec![1.0f32; wrong];
        assert!(dev
            .try_upload_tensor(&mut staging, &values, (3usize, Const::<2>))
            .is_err());
    }
}
