#!/usr/bin/python3
"""Writes the reference data for tests/test_readers.c into OUT_DIR.

The expected values come from numpy / Python's gzip (independent of the C
readers in examples/common):
  fmnist_expect.txt   counts, dims and label histograms of Fashion-MNIST
  fmnist_*.u8 / .f32  first images, raw and preprocessed the demo's way
  npy/<case>.npy      arrays written by numpy, with <case>.f32 (values as
                      float32) and <case>.shape ("ndim d0 d1 ...")
  npy/bad_*.npy       hostile or unsupported files
  idx/bad_*           hostile IDX files
  lists/...           input_list.txt cases and raw float32 files
Usage: gen_reader_data.py OUT_DIR [FMNIST_DIR]
"""
import gzip
import os
import struct
import sys

import numpy as np

MEAN = np.float32(0.2860)
STD = np.float32(0.3530)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def idx_u8(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack('>' + 'I' * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def preprocess(u8):
    return ((u8.astype(np.float32) / np.float32(255)) - MEAN) / STD


def gen_fmnist(out, fdir):
    if not os.path.isdir(fdir):
        return
    lines = []
    for split in ('train', 't10k'):
        img = idx_u8(os.path.join(fdir, '%s-images-idx3-ubyte.gz' % split))
        lab = idx_u8(os.path.join(fdir, '%s-labels-idx1-ubyte.gz' % split))
        hist = np.bincount(lab, minlength=10)
        lines.append('%s %d %d %d %d %s' % (split, img.shape[0], img.shape[1], img.shape[2],
                                            lab.shape[0], ' '.join(str(h) for h in hist)))
        write(os.path.join(out, 'fmnist_%s_first.u8' % split), img[0].tobytes())
        write(os.path.join(out, 'fmnist_%s_last.u8' % split), img[-1].tobytes())
        write(os.path.join(out, 'fmnist_%s_pre5.f32' % split),
              preprocess(img[:5]).astype('<f4').tobytes())
        write(os.path.join(out, 'fmnist_%s_labels_first.u8' % split), lab[:100].tobytes())
    write(os.path.join(out, 'fmnist_expect.txt'), ('\n'.join(lines) + '\n').encode())


def npy_case(out, name, arr, version=None):
    path = os.path.join(out, 'npy', name + '.npy')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if version is None:
        np.save(path, arr)
    else:
        with open(path, 'wb') as f:
            np.lib.format.write_array(f, arr, version=version)
    with np.errstate(over="ignore"):
        vals = np.asarray(arr).astype(np.float32).ravel(order="C")
    write(os.path.join(out, 'npy', name + '.f32'), vals.astype('<f4').tobytes())
    shape = np.asarray(arr).shape
    write(os.path.join(out, 'npy', name + '.shape'),
          (' '.join(str(x) for x in (len(shape),) + shape) + '\n').encode())


def npy_raw(out, name, header, data=b'', version=1):
    """A .npy file with a hand-made header (for hostile cases)."""
    if version == 1:
        pre = b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header))
    else:
        pre = b'\x93NUMPY' + bytes([version, 0]) + struct.pack('<I', len(header))
    write(os.path.join(out, 'npy', name + '.npy'), pre + header + data)


def gen_npy(out):
    rng = np.random.default_rng(7)
    npy_case(out, 'f4_2x3', rng.standard_normal((2, 3)).astype(np.float32))
    npy_case(out, 'f4_nchw', rng.standard_normal((2, 1, 28, 28)).astype(np.float32))
    npy_case(out, 'f8_5', np.array([0.1, -2.5, 1e300, -1e-300, 3.14159265358979]))
    npy_case(out, 'u1_2x2x2', np.arange(250, 258, dtype=np.int64).clip(0, 255).astype(np.uint8)
             .reshape(2, 2, 2))
    npy_case(out, 'i1_4', np.array([-128, -1, 0, 127], dtype=np.int8))
    npy_case(out, 'i4_3', np.array([-2147483648, 7, 2147483647], dtype=np.int32))
    npy_case(out, 'i8_4', np.array([-(2 ** 62), -3, 0, 2 ** 53 + 1], dtype=np.int64))
    npy_case(out, 'f2_6', np.array([0.0, -0.0, 1.5, 65504, 6e-8, -np.inf], dtype=np.float16))
    npy_case(out, 'b1_3', np.array([True, False, True]))
    npy_case(out, 'scalar', np.array(np.float32(42.5)))
    npy_case(out, 'empty_0x3', np.zeros((0, 3), np.float32))
    npy_case(out, 'v2_f4', rng.standard_normal((3, 4)).astype(np.float32), version=(2, 0))
    npy_case(out, 'v3_f4', rng.standard_normal((4,)).astype(np.float32), version=(3, 0))
    npy_case(out, 'rank8', np.arange(256, dtype=np.float32).reshape((2,) * 8))

    # A valid version 2.0 file with a 200 000-byte header (padding spaces).
    arr = np.arange(6, dtype='<f4').reshape(2, 3)
    hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    hdr = hdr + b' ' * (200000 - len(hdr) - 1) + b'\n'
    npy_raw(out, 'bighdr', hdr, arr.tobytes(), version=2)
    write(os.path.join(out, 'npy', 'bighdr.f32'), arr.tobytes())
    write(os.path.join(out, 'npy', 'bighdr.shape'), b'2 2 3\n')

    # Hostile and unsupported files.
    good = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"
    six = np.arange(6, dtype='<f4').tobytes()
    np.save(os.path.join(out, 'npy', 'bad_fortran.npy'),
            np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    np.save(os.path.join(out, 'npy', 'bad_bigendian.npy'), np.arange(3, dtype='>f4'))
    np.save(os.path.join(out, 'npy', 'bad_object.npy'), np.array([1, 'a'], dtype=object),
            allow_pickle=True)
    np.save(os.path.join(out, 'npy', 'bad_struct.npy'),
            np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
    np.save(os.path.join(out, 'npy', 'bad_c8.npy'), np.zeros(2, dtype=np.complex64))
    npy_raw(out, 'bad_truncated', good, six[:-3])
    npy_raw(out, 'bad_trailing', good, six + b'\0\0\0\0')
    npy_raw(out, 'bad_hlen_huge', good, six, version=2)
    with open(os.path.join(out, 'npy', 'bad_hlen_huge.npy'), 'r+b') as f:
        f.seek(8)
        f.write(struct.pack('<I', 0xFFFFFFF0))
    npy_raw(out, 'bad_hlen_past_end', good, six)
    with open(os.path.join(out, 'npy', 'bad_hlen_past_end.npy'), 'r+b') as f:
        f.seek(8)
        f.write(struct.pack('<H', 60000))
    write(os.path.join(out, 'npy', 'bad_magic.npy'), b'\x93NUMPZ\x01\x00' + b'\0' * 20)
    write(os.path.join(out, 'npy', 'bad_short.npy'), b'\x93NUM')
    write(os.path.join(out, 'npy', 'bad_empty.npy'), b'')
    npy_raw(out, 'bad_version', good, six, version=4)
    npy_raw(out, 'bad_overflow',
            b"{'descr': '<f4', 'fortran_order': False, 'shape': "
            b"(4294967296, 4294967296, 4294967296), }\n", six)
    npy_raw(out, 'bad_dimdigits',
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (" + b'9' * 400 + b",), }\n",
            six)
    npy_raw(out, 'bad_negdim', b"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n")
    npy_raw(out, 'bad_rank9', b"{'descr': '<f4', 'fortran_order': False, 'shape': "
            b"(1,1,1,1,1,1,1,1,1), }\n", b'\0' * 4)
    npy_raw(out, 'bad_nokey', b"{'descr': '<f4', 'fortran_order': False, }\n", six)
    npy_raw(out, 'bad_extrakey', b"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), "
            b"'x': 1}\n", six)
    npy_raw(out, 'bad_dupkey', b"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
            b"'shape': (6,)}\n", six)
    npy_raw(out, 'bad_unterminated', b"{'descr': '<f4", b'')
    npy_raw(out, 'bad_nul', b"{'descr': '<f4'\0, 'fortran_order': False, 'shape': (6,), }\n",
            six)
    npy_raw(out, 'bad_garbage_after', good[:-1] + b' x\n', six)
    npy_raw(out, 'bad_notdict', b"['<f4', False, (6,)]\n", six)
    npy_raw(out, 'bad_fortran_value', b"{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}\n",
            six)


def gen_idx(out):
    d = os.path.join(out, 'idx')
    os.makedirs(d, exist_ok=True)
    hdr3 = bytes([0, 0, 8, 3]) + struct.pack('>III', 2, 3, 4)
    data = bytes(range(24))
    cases = {
        'ok3.idx': hdr3 + data,
        'bad_magic.idx': bytes([1, 0, 8, 3]) + hdr3[4:] + data,
        'bad_type.idx': bytes([0, 0, 0x0D, 3]) + hdr3[4:] + data,
        'bad_ndim0.idx': bytes([0, 0, 8, 0]) + data,
        'bad_ndim5.idx': bytes([0, 0, 8, 5]) + struct.pack('>IIIII', 1, 1, 1, 1, 24) + data,
        'bad_zero_dim.idx': bytes([0, 0, 8, 3]) + struct.pack('>III', 2, 0, 4),
        'bad_short_header.idx': hdr3[:9],
        'bad_tiny.idx': bytes([0, 0]),
        'bad_empty.idx': b'',
        'bad_lying_count.idx': bytes([0, 0, 8, 3]) + struct.pack('>III', 1000, 3, 4) + data,
        'bad_huge_dims.idx': bytes([0, 0, 8, 3]) + struct.pack('>III', 0xFFFFFFFF,
                                                             0xFFFFFFFF, 0xFFFFFFFF) + data,
        'bad_trailing.idx': hdr3 + data + b'\x07',
        'bad_not_gzip.idx.gz': hdr3 + data,
        'labels_range.idx': bytes([0, 0, 8, 1]) + struct.pack('>I', 4) + bytes([0, 9, 10, 1]),
    }
    for name, raw in cases.items():
        write(os.path.join(d, name), raw)
    write(os.path.join(d, 'ok3.idx.gz'), gzip.compress(hdr3 + data))
    write(os.path.join(d, 'bad_lying_count.idx.gz'), gzip.compress(cases['bad_lying_count.idx']))
    write(os.path.join(d, 'bad_trailing.idx.gz'), gzip.compress(cases['bad_trailing.idx']))
    big = gzip.compress(hdr3 + data + bytes(4000))
    write(os.path.join(d, 'bad_cut_stream.idx.gz'), gzip.compress(hdr3 + bytes(5000))[:40])
    flipped = bytearray(gzip.compress(hdr3 + bytes(range(256)) * 40))
    flipped[-6] ^= 0xFF  # damage the CRC32 trailer
    write(os.path.join(d, 'bad_crc.idx.gz'), bytes(flipped))
    write(os.path.join(d, 'bad_trailing_big.idx.gz'), big)


def gen_lists(out):
    d = os.path.join(out, 'lists')
    os.makedirs(os.path.join(d, 'sub'), exist_ok=True)
    np.array([1.0, -2.0, 3.5, 1e-3], dtype='<f4').tofile(os.path.join(d, 'a.raw'))
    np.array([7.25, -0.5], dtype='<f4').tofile(os.path.join(d, 'b.raw'))
    np.arange(4, dtype='<f4').tofile(os.path.join(d, 'sub', 'c.raw'))
    absa = os.path.abspath(os.path.join(d, 'a.raw'))
    lists = {
        'ok_pos.txt': '# comment: positional inputs\n a.raw sub/c.raw\n\n  # indented\n'
                      'sub/../a.raw\t%s\r\n' % os.path.abspath(os.path.join(d, 'sub', 'c.raw')),
        'ok_named.txt': 'x:=a.raw y:=b.raw\ny:=b.raw x:=sub/c.raw',
        'sub/ok_nested.txt': '../a.raw\nc.raw\n',
        'ok_abs.txt': '%s\n' % absa,
        'bad_missing.txt': 'a.raw b.raw\na.raw nothere.raw\n',
        'bad_mixed.txt': 'x:=a.raw b.raw\n',
        'bad_mixed_lines.txt': 'x:=a.raw\na.raw\n',
        'bad_count.txt': 'a.raw b.raw\na.raw\n',
        'bad_names.txt': 'x:=a.raw\nz:=a.raw\n',
        'bad_dup.txt': 'x:=a.raw x:=b.raw\n',
        'bad_emptyname.txt': ':=a.raw\n',
        'bad_emptypath.txt': 'x:=\n',
        'bad_dir.txt': 'sub\n',
        'bad_comments_only.txt': '# nothing\n\n   \n',
        'bad_empty.txt': '',
    }
    for name, text in lists.items():
        write(os.path.join(d, name), text.encode())
    write(os.path.join(d, 'bad_nul.txt'), b'a.raw\0 b.raw\n')


def main():
    out = sys.argv[1]
    fdir = sys.argv[2] if len(sys.argv) > 2 else '/usr/share/datasets/fashion-mnist'
    os.makedirs(out, exist_ok=True)
    gen_fmnist(out, fdir)
    gen_npy(out)
    gen_idx(out)
    gen_lists(out)


if __name__ == '__main__':
    main()
