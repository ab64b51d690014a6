"""A small fake blog served on 127.0.0.1 by a real HTTP server the test starts.

Pages carry the chrome real blog pages have (cookie banner, navigation, share buttons, a
newsletter box, comments, a footer), plus a sitemap, a sitemap index, an RSS feed, a
WordPress-style JSON API (paginated, two posts a page) and the bad sources ingest must
survive: a 404, a page with no article text, a malformed sitemap and feed, a binary file,
an oversize response (with and without Content-Length) and a slow page. ``blog.robots``
sets a robots.txt (none by default). Post pages carry an ETag and answer a matching
If-None-Match with 304 (logged in ``blog.not_modified``).
``blog.redirects`` (path -> a 302) and ``blog.raw`` (path -> bytes and headers, sent as they
are) make hostile sites. Tests may edit ``blog.posts`` while it runs; every request path is
logged in ``blog.requests``.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import frontmatter
from markdown_it import MarkdownIt

CORPUS_ARTICLE = (
    Path(__file__).resolve().parents[2] / "corpus" / "glute-hip-weakness-low-back-pain.md"
)
HUGE_BYTES = 50_000_000
WP_PAGE_CAP = 2  # like a WordPress site that caps per_page: forces pagination


@dataclass
class Post:
    slug: str
    title: str
    markdown: str
    date: str  # YYYY-MM-DD
    modified: str  # ISO timestamp; bump it when editing
    author: str = "Nicole"
    tags: tuple[str, ...] = ()

    @property
    def html(self) -> str:
        return MarkdownIt("commonmark").render(self.markdown)


def corpus_post() -> Post:
    post = frontmatter.loads(CORPUS_ARTICLE.read_text())
    return Post(
        slug=str(post["slug"]),
        title=str(post["title"]),
        markdown=post.content,
        date=str(post["date"]),
        modified="2025-03-20T09:00:00+00:00",
        author=str(post["author"]),
        tags=tuple(str(t) for t in post["tags"]),  # type: ignore[attr-defined]
    )


PIRIFORMIS = """\
## Why the Piriformis Gets Tight

The piriformis runs from the sacrum to the top of the thigh bone and turns the hip outward. When the gluteus medius is weak, the piriformis works overtime as a hip stabilizer and stays tense for hours.

## Three Stretches That Help

1. **Figure-Four Stretch**
   - Lie on your back, cross one ankle over the other knee, and pull the lower thigh toward your chest for thirty seconds.
2. **Seated Twist**
   - Sit tall, cross one leg over the other, and turn your chest toward the bent knee while breathing slowly.

Stretch gently and stop if you feel tingling down the leg.
"""

FASCIA = """\
## What the Thoracolumbar Fascia Does

The thoracolumbar fascia is a diamond-shaped sheet of connective tissue across the lower back. It links the latissimus dorsi on one side to the gluteus maximus on the other, so tension travels diagonally across the back.

## Gentle Release at Home

- Lie on a soft ball placed beside the spine and breathe into the pressure for one minute.
- Roll slowly from the lower ribs to the top of the pelvis, never directly on the spine.

Release work feels best after a short walk, when the tissue is warm.
"""


def default_posts() -> dict[str, Post]:
    posts = [
        corpus_post(),
        Post(
            "piriformis-syndrome-stretches",
            "Piriformis Syndrome: Three Stretches",
            PIRIFORMIS,
            "2025-04-02",
            "2025-04-02T10:00:00+00:00",
            tags=("piriformis", "stretching"),
        ),
        Post(
            "thoracolumbar-fascia-release",
            "Releasing the Thoracolumbar Fascia",
            FASCIA,
            "2025-05-11",
            "2025-05-11T07:30:00+00:00",
            tags=("fascia",),
        ),
    ]
    return {p.slug: p for p in posts}


PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8"><title>{title} | Supple Movement Blog</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="{url}">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="og:url" content="{url}">
<meta property="og:site_name" content="Supple Movement">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{date}T08:00:00+00:00">
<meta property="article:modified_time" content="{modified}">
{tag_meta}
<script type="application/ld+json">{jsonld}</script>
</head><body>
<div id="cookie-banner" class="cookie-consent" role="dialog">
  <p>We use cookies to give you the best experience on our site. <a href="/privacy">Consent Preferences</a></p>
  <button>Accept all</button> <button>Reject all</button>
</div>
<header class="site-header"><a class="logo" href="/">Supple Movement</a>
  <nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/blog/">Blog</a></li>
  <li><a href="/courses/">Courses</a></li><li><a href="/about/">About Nicole</a></li>
  <li><a href="/login">Login</a></li></ul></nav></header>
<main class="container">
<article class="blog-post">
  <h1 class="blog-post-title">{title}</h1>
  <div class="blog-post-meta"><a class="category" href="/tag/{first_tag}/">{first_tag}</a>
    <time datetime="{date}">{date_human}</time></div>
  <div class="blog-post-body">
{body}
  </div>
  <div class="share-buttons"><span>Share this post:</span>
    <a href="https://facebook.example/share">Share on Facebook</a>
    <a href="https://x.example/share">Share on X</a>
    <a href="https://pinterest.example/pin">Pin it</a></div>
  <section class="newsletter-optin">
    <h3>Stay connected with news and updates!</h3>
    <p>Join my monthly mailing list to receive the latest news and updates about chronic pain MASTERY.
    Don't worry, your information will not be shared.</p>
    <form><input type="email" placeholder="Your email"><button>Subscribe</button></form>
    <p>I hate SPAM. I will never sell your information, for any reason.</p>
  </section>
</article>
<section id="comments" class="comments-area">
  <h2 class="comments-title">2 Comments</h2>
  <ol class="comment-list">
    <li class="comment"><p class="comment-author">Jane R.</p>
      <p>Thank you so much, my back has never felt better since I started these bridges!</p></li>
    <li class="comment"><p class="comment-author">Mark T.</p>
      <p>Could you write a post about knee pain next time?</p></li>
  </ol>
  <h3>Leave a Reply</h3><form><textarea></textarea><button>Post Comment</button></form>
</section>
<aside class="sidebar"><h3>Recent posts</h3><ul>{recent}</ul></aside>
</main>
<footer class="site-footer"><p>© 2025 Supple Movement. All rights reserved.</p>
  <a href="/privacy">Privacy Policy</a> <a href="/terms">Terms of Use</a></footer>
</body></html>
"""

TAG_PAGE = """<!DOCTYPE html><html><head><title>Tag: glutes | Supple Movement Blog</title></head>
<body><header><nav><ul><li><a href="/">Home</a></li><li><a href="/blog/">Blog</a></li></ul></nav></header>
<main><h1>Tag: glutes</h1><ul>{links}</ul></main>
<footer><p>© 2025 Supple Movement</p></footer></body></html>
"""


@dataclass
class FakeBlog:
    posts: dict[str, Post] = field(default_factory=default_posts)
    requests: list[str] = field(default_factory=list)
    extra_urls: list[str] = field(default_factory=list)  # extra sitemap entries
    hidden: dict[str, Post] = field(default_factory=dict)  # served, but in no listing
    listings_broken: bool = False  # the sitemap, feed and API answer 500
    robots: str | None = None  # the robots.txt served (None: 404, as most blogs without one)
    robots_status: int = 200
    not_modified: list[str] = field(default_factory=list)  # paths answered 304 (ETag matched)
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location (302)
    raw: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)  # path -> as is
    base_url: str = ""

    def url(self, path: str) -> str:
        return self.base_url + path

    def post_url(self, slug: str) -> str:
        return f"{self.base_url}/{slug}/"

    # --- rendering -----------------------------------------------------------------
    def page(self, post: Post) -> str:
        url = self.post_url(post.slug)
        jsonld = {
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": post.title,
            "author": {"@type": "Person", "name": post.author},
            "datePublished": f"{post.date}T08:00:00+00:00",
            "dateModified": post.modified,
            "keywords": ", ".join(post.tags),
            "mainEntityOfPage": url,
        }
        recent = "".join(
            f'<li><a href="{self.post_url(p.slug)}">{html.escape(p.title)}</a></li>'
            for p in self.posts.values()
        )
        return PAGE.format(
            title=html.escape(post.title),
            url=url,
            author=post.author,
            date=post.date,
            date_human=datetime.fromisoformat(post.date).strftime("%b %d, %Y"),
            modified=post.modified,
            tag_meta="\n".join(f'<meta property="article:tag" content="{t}">' for t in post.tags),
            jsonld=json.dumps(jsonld),
            first_tag=post.tags[0] if post.tags else "blog",
            body=post.html,
            recent=recent,
        )

    def sitemap(self) -> str:
        entries = [
            f"<url><loc>{self.post_url(p.slug)}</loc><lastmod>{p.modified}</lastmod></url>"
            for p in self.posts.values()
        ] + [f"<url><loc>{u}</loc></url>" for u in self.extra_urls]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(entries)
            + "</urlset>"
        )

    def sitemap_index(self) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{self.url('/post-sitemap.xml')}</loc></sitemap></sitemapindex>"
        )

    def feed(self) -> str:
        items = "".join(
            f"<item><title>{html.escape(p.title)}</title><link>{self.post_url(p.slug)}?utm_source=rss</link>"
            f"<dc:creator>{p.author}</dc:creator>"
            f"<pubDate>{datetime.fromisoformat(p.date).strftime('%a, %d %b %Y 08:00:00 +0000')}</pubDate>"
            + "".join(f"<category>{t}</category>" for t in p.tags)
            + f"<guid>{self.post_url(p.slug)}</guid>"
            f"<description>{html.escape(p.markdown[:120])}</description>"
            f"<content:encoded><![CDATA[{p.html}]]></content:encoded></item>"
            for p in self.posts.values()
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>Supple Movement</title><link>{self.url('/')}</link>"
            f"<description>Blog</description>{items}</channel></rss>"
        )

    def atom(self) -> str:
        """An Atom feed with summaries only: ingest must read each post's page."""
        entries = "".join(
            f"<entry><title>{html.escape(p.title)}</title>"
            f'<link rel="alternate" href="{self.post_url(p.slug)}"/>'
            f"<id>{self.post_url(p.slug)}</id><updated>{p.modified}</updated>"
            f"<author><name>{p.author}</name></author>"
            f"<summary>{html.escape(p.markdown[:120])}</summary></entry>"
            for p in self.posts.values()
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Supple Movement</title><id>{self.url('/')}</id>"
            f"<updated>2025-06-01T00:00:00Z</updated>{entries}</feed>"
        )

    def wp_posts(self, query: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
        per_page = min(int(query.get("per_page", ["10"])[0]), WP_PAGE_CAP)
        page = int(query.get("page", ["1"])[0])
        posts = list(self.posts.values())
        pages = max(1, -(-len(posts) // per_page))
        chosen = posts[(page - 1) * per_page : page * per_page]
        body = [
            {
                "id": n,
                "date": f"{p.date}T08:00:00",
                "modified": p.modified[:19],
                "slug": p.slug,
                "link": self.post_url(p.slug),
                "title": {"rendered": html.escape(p.title)},
                "content": {"rendered": p.html, "protected": False},
                "excerpt": {"rendered": "<p>…</p>"},
                "author": 1,
                "_embedded": {
                    "author": [{"id": 1, "name": p.author}],
                    "wp:term": [
                        [{"taxonomy": "category", "name": "Blog"}],
                        [{"taxonomy": "post_tag", "name": t} for t in p.tags],
                    ],
                },
            }
            for n, p in enumerate(chosen, start=(page - 1) * per_page + 1)
        ]
        headers = {"X-WP-Total": str(len(posts)), "X-WP-TotalPages": str(pages)}
        return json.dumps(body), headers


def _handler(blog: FakeBlog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: str | bytes, ctype: str, **headers: str) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            blog.requests.append(path)
            slug = path.strip("/")
            with suppress(BrokenPipeError, ConnectionResetError):
                self._route(path, slug, query)

        def _route(self, path: str, slug: str, query: dict[str, list[str]]) -> None:
            html_type = "text/html; charset=utf-8"
            listing = path in ("/sitemap.xml", "/feed/", "/atom.xml", "/wp-json/wp/v2/posts")
            if path in blog.raw:  # any query: the same bytes and headers
                raw, raw_headers = blog.raw[path]
                self.send_response(200)
                for name, value in {"Content-Length": str(len(raw)), **raw_headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)
            elif path in blog.redirects:
                self.send_response(302)
                self.send_header("Location", blog.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif listing and blog.listings_broken:
                self._send(500, "<html><body>Internal Server Error</body></html>", html_type)
            elif path.endswith("/") and slug in {**blog.posts, **blog.hidden}:
                page = blog.page({**blog.posts, **blog.hidden}[slug])
                etag = f'"{hashlib.sha1(page.encode()).hexdigest()[:16]}"'
                if self.headers.get("If-None-Match") == etag:
                    blog.not_modified.append(path)
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                else:
                    self._send(200, page, html_type, ETag=etag)
            elif slug in blog.posts:  # no trailing slash: redirect like WordPress does
                self.send_response(301)
                self.send_header("Location", f"/{slug}/")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path in ("/sitemap.xml", "/post-sitemap.xml"):
                self._send(200, blog.sitemap(), "application/xml")
            elif path == "/sitemap_index.xml":
                self._send(200, blog.sitemap_index(), "application/xml")
            elif path == "/feed/":
                self._send(200, blog.feed(), "application/rss+xml; charset=utf-8")
            elif path == "/atom.xml":
                self._send(200, blog.atom(), "application/atom+xml")
            elif path == "/wp-json/wp/v2/posts":
                body, headers = blog.wp_posts(query)
                self._send(200, body, "application/json; charset=UTF-8", **headers)
            elif path == "/tag/glutes/":
                links = "".join(
                    f'<li><a href="{blog.post_url(p.slug)}">{html.escape(p.title)}</a></li>'
                    for p in blog.posts.values()
                )
                self._send(200, TAG_PAGE.format(links=links), html_type)
            elif path == "/bad-sitemap.xml":
                self._send(200, "<?xml version='1.0'?><urlset><url><loc>/x</loc></url", "text/xml")
            elif path == "/bad-feed/":
                self._send(
                    200, "<rss><channel><item><title>Oops</titl></rss", "application/rss+xml"
                )
            elif path == "/robots.txt" and blog.robots is not None:
                self._send(blog.robots_status, blog.robots, "text/plain; charset=utf-8")
            elif path == "/photo.png":
                self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "image/png")
            elif path == "/huge":
                self._huge(with_length=True)
            elif path == "/huge-streamed":
                self._huge(with_length=False)
            elif path == "/slow/":
                time.sleep(3)
                self._send(200, "<html><body><p>late</p></body></html>", html_type)
            else:
                self._send(404, "<html><body><h1>Page not found</h1></body></html>", html_type)

        def _huge(self, *, with_length: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            if with_length:
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            block = b"<p>" + b"padding " * 8000 + b"</p>\n"
            sent = 0
            while sent < HUGE_BYTES:
                self.wfile.write(block)
                sent += len(block)

    return Handler


@contextmanager
def serve_blog(blog: FakeBlog | None = None) -> Iterator[FakeBlog]:
    """Serve ``blog`` on 127.0.0.1 (a free port) for the duration of the block."""
    blog = blog or FakeBlog()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(blog))
    server.daemon_threads = True
    blog.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield blog
    finally:
        server.shutdown()
        server.server_close()
