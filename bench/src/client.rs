//! The load generator's HTTP client: HTTP/1.1 over kept-alive loopback connections, each
//! request written whole in one `write`, each response read by its `Content-Length`.
//!
//! The generator shares the two cores with the server it measures, so its own cost is taken
//! from the server's figure. A general-purpose client (reqwest: a connection pool per host,
//! URL and header maps, body streams, a tower stack) spent about as much CPU per request as
//! the server under test; this one does what `wrk` does and no more.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Response headers read at most.
const MAX_HEADERS: usize = 32;
/// Largest response the generator accepts (answers are small JSON documents).
const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// One answer.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Kept-alive connections by server address, shared by every worker. Cheap to clone.
#[derive(Clone, Default)]
pub struct LoadClient {
    idle: Arc<Mutex<HashMap<SocketAddr, Vec<TcpStream>>>>,
}

impl LoadClient {
    /// POSTs `body` as JSON to `url` (`http://IP:PORT/path?query`).
    pub async fn post_json(&self, url: &str, body: &[u8]) -> Result<Reply, String> {
        let (addr, target) = split_url(url)?;
        let mut request = format!(
            "POST {target} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        let pooled = self.idle.lock().get_mut(&addr).and_then(Vec::pop);
        let mut conn = match pooled {
            Some(conn) => conn,
            None => connect(addr).await?,
        };
        let (reply, keep) = exchange(&mut conn, &request).await?;
        if keep {
            self.idle.lock().entry(addr).or_default().push(conn);
        }
        Ok(reply)
    }
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let conn = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    conn.set_nodelay(true)
        .map_err(|e| format!("setting TCP_NODELAY: {e}"))?;
    Ok(conn)
}

/// The socket address and the request target of a loopback `http://` URL.
fn split_url(url: &str) -> Result<(SocketAddr, &str), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs"))?;
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr = authority
        .parse()
        .map_err(|e| format!("{url}: the host must be IP:PORT ({e})"))?;
    Ok((addr, if target.is_empty() { "/" } else { target }))
}

/// Sends one request and reads its response; whether the connection may be reused.
async fn exchange(conn: &mut TcpStream, request: &[u8]) -> Result<(Reply, bool), String> {
    let io = |e: std::io::Error| format!("HTTP exchange: {e}");
    conn.write_all(request).await.map_err(io)?;
    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() == buf.capacity() {
            buf.reserve(buf.len());
        }
        let n = conn.read_buf(&mut buf).await.map_err(io)?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(&buf) {
            Ok(httparse::Status::Complete(head)) => head,
            Ok(httparse::Status::Partial) if buf.len() < MAX_RESPONSE_BYTES => continue,
            Ok(httparse::Status::Partial) => return Err("response head too large".into()),
            Err(e) => return Err(format!("malformed response: {e}")),
        };
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let status = response.code.unwrap_or(0);
        let reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        let length: usize = reply
            .header("content-length")
            .ok_or("response without content-length")?
            .trim()
            .parse()
            .map_err(|e| format!("bad content-length: {e}"))?;
        if length > MAX_RESPONSE_BYTES {
            return Err(format!("response of {length} bytes"));
        }
        let mut body = buf.split_off(head);
        while body.len() < length {
            body.reserve(length - body.len());
            if conn.read_buf(&mut body).await.map_err(io)? == 0 {
                return Err("the server closed the connection mid-body".into());
            }
        }
        body.truncate(length);
        let keep = !reply
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        return Ok((Reply { body, ..reply }, keep));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_address_and_target() {
        let (addr, target) = split_url("http://127.0.0.1:8080/webhooks/chat2desk?token=x").unwrap();
        assert_eq!(addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(target, "/webhooks/chat2desk?token=x");
        assert_eq!(split_url("http://127.0.0.1:1").unwrap().1, "/");
        assert!(split_url("https://127.0.0.1:1/").is_err());
        assert!(split_url("http://localhost:1/").is_err());
    }

    #[tokio::test]
    async fn posts_and_reuses_the_connection() {
        use axum::routing::post;
        let app = axum::Router::new().route(
            "/echo",
            post(|body: axum::body::Bytes| async move { ([("x-seen", "yes")], body) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = LoadClient::default();
        for i in 0..3 {
            let body = format!("{{\"n\":{i}}}");
            let reply = client
                .post_json(&format!("http://{addr}/echo"), body.as_bytes())
                .await
                .unwrap();
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("X-Seen"), Some("yes"));
            assert_eq!(reply.body, body.as_bytes());
        }
        assert_eq!(client.idle.lock()[&addr].len(), 1);
    }
}
