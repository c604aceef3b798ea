// struct xdp_md as BPF_PROG_TEST_RUN's ctx_in and ctx_out carry it for XDP (net/bpf/test_run.c:
// bpf_ctx_init, bpf_prog_test_run_xdp, xdp_convert_md_to_buff, xdp_convert_buff_to_md). In ctx_in,
// data is the length of the metadata that starts data_in, data_end the end of the linear part,
// data_meta must be 0 ("there can't be user provided data before the meta data"), ingress_ifindex
// and rx_queue_index choose the receive queue, and egress_ifindex must be 0. ctx_out gives data
// and data_end back relative to data_meta, after the run; the other fields are returned as given.
import { BpfError } from '../errors.ts';
import { XDP_MD, XDP_MD_SIZE } from './xdp.ts';

export interface XdpMd {
  data: number;
  dataEnd: number;
  dataMeta: number;
  ingressIfindex: number;
  rxQueueIndex: number;
  egressIfindex: number;
}

const PAGE_SIZE = 4096;

/**
 * ctx_in's bytes as struct xdp_md, by bpf_ctx_init's rules: a shorter buffer is zero-extended; a
 * longer one may only add zero bytes (bpf_check_uarg_tail_zero: E2BIG otherwise, and past a page).
 */
export function decodeXdpMd(bytes: Uint8Array): XdpMd {
  if (bytes.byteLength > PAGE_SIZE) {
    throw new BpfError('E2BIG', `ctx_in of ${bytes.byteLength} bytes: larger than a page (${PAGE_SIZE})`);
  }
  for (let i = XDP_MD_SIZE; i < bytes.byteLength; i++) {
    if (bytes[i] !== 0) {
      throw new BpfError('E2BIG', `ctx_in of ${bytes.byteLength} bytes: struct xdp_md has ${XDP_MD_SIZE}, and byte ${i} past it is not zero`);
    }
  }
  const full = new Uint8Array(XDP_MD_SIZE);
  full.set(bytes.subarray(0, XDP_MD_SIZE));
  const dv = new DataView(full.buffer);
  const u32 = (off: number): number => dv.getUint32(off, true);
  return {
    data: u32(XDP_MD.data),
    dataEnd: u32(XDP_MD.data_end),
    dataMeta: u32(XDP_MD.data_meta),
    ingressIfindex: u32(XDP_MD.ingress_ifindex),
    rxQueueIndex: u32(XDP_MD.rx_queue_index),
    egressIfindex: u32(XDP_MD.egress_ifindex),
  };
}

/** struct xdp_md's 24 bytes (little-endian u32s). */
export function encodeXdpMd(md: XdpMd): Uint8Array {
  const out = new Uint8Array(XDP_MD_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(XDP_MD.data, md.data >>> 0, true);
  dv.setUint32(XDP_MD.data_end, md.dataEnd >>> 0, true);
  dv.setUint32(XDP_MD.data_meta, md.dataMeta >>> 0, true);
  dv.setUint32(XDP_MD.ingress_ifindex, md.ingressIfindex >>> 0, true);
  dv.setUint32(XDP_MD.rx_queue_index, md.rxQueueIndex >>> 0, true);
  dv.setUint32(XDP_MD.egress_ifindex, md.egressIfindex >>> 0, true);
  return out;
}
