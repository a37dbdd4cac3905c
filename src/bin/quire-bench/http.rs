//! A minimal HTTP/1.1 keep-alive client for loopback measurements: one
//! connection, GETs and the odd POST, `Content-Length` bodies (what our
//! server sends).
//! Written here so the benchmark measures the server, not a client library.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    /// GETs `path`; returns the status and the body.
    pub async fn get(&mut self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let (status, _, body) = self.get_with_head(path).await?;
        Ok((status, body))
    }

    /// GETs `path`; returns the status, the response's head and its body.
    pub async fn get_with_head(&mut self, path: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n");
        self.stream.write_all(request.as_bytes()).await?;
        self.response().await
    }

    /// POSTs `body` to `path` with the extra `headers`; returns the status
    /// and the body.
    pub async fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes).await?;
        let (status, _, body) = self.response().await?;
        Ok((status, body))
    }

    /// Reads one response: its status, head and body.
    async fn response(&mut self) -> std::io::Result<(u16, String, Vec<u8>)> {
        self.buffer.clear();
        let header_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..header_end]).to_string();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())
                    .flatten()
            })
            .ok_or_else(|| std::io::Error::other("response without content-length"))?;
        while self.buffer.len() < header_end + length {
            self.fill().await?;
        }
        Ok((
            status,
            head,
            self.buffer[header_end..header_end + length].to_vec(),
        ))
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
