// The socket-layer object a sock points back to (sk->sk_socket): defined by the socket API
// (net/socket.ts); the protocol side only needs to know it exists and how to wake its owner.
export interface Socket {
  /** SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING (socket->state). */
  state: number;
  /** O_NONBLOCK and friends (file->f_flags). */
  file_flags: number;
}
