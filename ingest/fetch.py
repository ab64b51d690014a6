"""Polite HTTP fetching for ingest: timeouts, a size cap, a pause between requests, the
same-site rule (scheme, host and port), no private addresses (ingest/netguard.py) and a page
budget per run. Every failure is a ``SourceError`` with one line a reader understands.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from ingest.errors import SourceError
from ingest.netguard import BoundedDecoder, CodingError, GuardedBackend, private_address_of
from ingest.settings import StoreSettings

MAX_REDIRECTS = 5
TEXT_TYPES = ("text/", "xml", "json", "rss", "atom", "html")
TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "_ga"}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def site_host(url: str) -> str:
    """The host a URL belongs to, for the same-host rule: lower case, without ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def site_origin(url: str) -> str:
    """The site a URL belongs to, for the same-site rule: ``scheme://host[:port]`` in lower
    case, without ``www.`` and without the scheme's default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = site_host(url)
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}"


def same_site(url: str, blog: str) -> bool:
    """``url`` is on the blog's site; ``http://blog`` -> ``https://blog`` (an upgrade on the
    default ports) counts as the same site."""
    origin = site_origin(url)
    return origin == blog or (
        blog.startswith("http://") and origin == "https://" + blog.removeprefix("http://")
    )


def clean_url(url: str) -> str:
    """The URL without its fragment and tracking parameters (utm_*, fbclid, ...)."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def url_key(url: str) -> str:
    """One spelling per page, to know it when it comes twice: the clean URL with its host in
    lower case, no default port, no trailing slash, and sorted query parameters."""
    parts = urlsplit(clean_url(url))
    netloc = parts.netloc.lower()
    if (parts.scheme.lower(), parts.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rsplit(":", 1)[0]
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


VALIDATOR_KINDS = ("etag:", "last-modified:")  # how a page's validator is kept in the index


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    content_type: str
    body: bytes
    headers: dict[str, str]
    not_modified: bool = False  # HTTP 304 to a conditional GET: the held version is current

    @property
    def validator(self) -> str:
        """What to send next time to ask "changed since?": the ETag, else Last-Modified."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if headers.get("etag"):
            return f"etag:{headers['etag']}"
        if headers.get("last-modified"):
            return f"last-modified:{headers['last-modified']}"
        return ""

    @property
    def text(self) -> str:
        """The body decoded by the charset of the header, else of a ``<meta>`` tag, else UTF-8."""
        declared = re.search(r"charset=[\"']?([\w.:-]+)", self.content_type) or re.search(
            rb"<meta[^>]+charset=[\"']?([\w.:-]+)", self.body[:4096], flags=re.I
        )
        charset = declared.group(1) if declared else "utf-8"
        if isinstance(charset, bytes):
            charset = charset.decode("ascii", errors="replace")
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            return self.body.decode("utf-8", errors="replace")


def _conditional(validator: str) -> dict[str, str]:
    """The request headers that ask whether the page changed since ``validator``."""
    if validator.startswith("etag:"):
        return {"If-None-Match": validator.removeprefix("etag:")}
    if validator.startswith("last-modified:"):
        return {"If-Modified-Since": validator.removeprefix("last-modified:")}
    return {}


class Fetcher:
    """One HTTP client for a run. ``fetch`` returns the body or raises ``SourceError``."""

    def __init__(self, settings: StoreSettings) -> None:
        self.timeout = settings.fetch_timeout
        self.max_bytes = settings.fetch_max_bytes
        self.delay = settings.fetch_delay
        self.follow_offsite = settings.follow_offsite
        self.respect_robots = settings.respect_robots
        self.user_agent = settings.fetch_user_agent
        self.allow_private = settings.allow_private
        self.max_pages = settings.max_pages
        self.requests = 0  # made this run, against max_pages
        self._last_request: dict[str, float] = {}
        self._host_delay: dict[str, float] = {}  # a robots.txt Crawl-delay above ours
        self._robots: dict[str, RobotFileParser | str] = {}  # by origin: rules, or why none
        transport = httpx.HTTPTransport()
        if not self.allow_private:  # no public option for it in httpx (ingest/netguard.py)
            transport._pool._network_backend = GuardedBackend()
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            # One coding at most, and only those BoundedDecoder reads in bounded steps.
            headers={"User-Agent": settings.fetch_user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def allowed(self, url: str, blog: str) -> bool:
        return self.follow_offsite or same_site(url, blog)

    def check_host(self, url: str, blog: str, source: str) -> None:
        """``blog`` is the blog's ``site_origin``: another scheme, host or port is refused."""
        if not self.allowed(url, blog):
            raise SourceError(
                source,
                f"on another site ({site_origin(url)}) than the blog ({blog}); "
                "pass --follow-offsite to fetch it",
            )

    def check_address(self, url: str, source: str) -> None:
        """Refuses a URL whose host resolves to a loopback, private or link-local address."""
        parts = urlsplit(url)
        if self.allow_private or not parts.hostname:
            return
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise SourceError(source, "not a valid http(s) URL") from None
        refused = private_address_of(parts.hostname, port)
        if refused is not None:
            raise SourceError(source, _private(parts.hostname, refused))

    @property
    def budget_spent(self) -> bool:
        return bool(self.max_pages) and self.requests >= self.max_pages

    def fetch(self, url: str, blog: str | None = None, *, validator: str = "") -> Fetched:
        """GET ``url``, following redirects only on ``blog`` (a ``site_origin``; default: the
        URL's own), each hop checked again. With a ``validator`` (``Fetched.validator`` of
        an earlier fetch) the GET is conditional, and an unchanged page comes back as
        ``not_modified`` with no body."""
        blog = blog or site_origin(url)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self.check_host(current, blog, url)
            self.check_address(current, url)
            if self.respect_robots:
                self.check_robots(current, url)
            response = self._get(current, url, _conditional(validator))
            if isinstance(response, Fetched):
                return response
            current = response
        raise SourceError(url, f"more than {MAX_REDIRECTS} redirects")

    def check_robots(self, url: str, source: str) -> None:
        """Raise when the site's robots.txt (RFC 9309) keeps our user agent off ``url``."""
        parts = urlsplit(url)
        if parts.path == "/robots.txt":
            return
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin)
        rules = self._robots[origin]
        if isinstance(rules, str):
            raise SourceError(source, rules)
        if not rules.can_fetch(self.user_agent, url):
            raise SourceError(
                source,
                f"disallowed by {origin}/robots.txt; pass --ignore-robots if this is your own blog",
            )

    def _read_robots(self, origin: str) -> RobotFileParser | str:
        """The rules; none (allow all) when there is no robots.txt (HTTP 4xx); a reason to
        fetch nothing when the server cannot say (5xx, unreachable), as RFC 9309 asks."""
        rules = RobotFileParser(f"{origin}/robots.txt")
        try:
            rules.parse(self.fetch(f"{origin}/robots.txt").text.splitlines())
        except SourceError as error:
            if re.search(r"HTTP 4\d\d|binary content", error.reason):
                rules.parse([])  # no robots.txt: everything may be fetched
            elif error.reason.startswith(("cannot connect", "no answer")):
                return error.reason  # the site is down: say so, as for any page
            else:
                return (
                    f"{origin}/robots.txt could not be read ({error.reason}); "
                    "pass --ignore-robots if this is your own blog"
                )
        delay = rules.crawl_delay(self.user_agent)
        if delay is not None and float(delay) > self.delay:
            self._host_delay[site_host(origin)] = min(float(delay), 30.0)
        return rules

    def _pause(self, host: str) -> None:
        delay = self._host_delay.get(host, self.delay)
        wait = self._last_request.get(host, 0.0) + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request[host] = time.monotonic()

    def _get(self, url: str, source: str, headers: dict[str, str]) -> Fetched | str:
        """The response, or the URL a redirect points to."""
        if self.budget_spent:
            raise SourceError(source, self.budget_line())
        self.requests += 1
        self._pause(site_host(url))
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304 and headers:
                    return Fetched(str(response.url), "", b"", dict(response.headers), True)
                if response.is_redirect and "location" in response.headers:
                    return urljoin(url, response.headers["location"])
                if response.status_code >= 400:
                    raise SourceError(
                        source, f"HTTP {response.status_code} {response.reason_phrase}".strip()
                    )
                ctype = response.headers.get("content-type", "").lower()
                if ctype and not any(t in ctype for t in TEXT_TYPES):
                    raise SourceError(
                        source, f"binary content ({ctype.split(';')[0]}), not a web page"
                    )
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > self.max_bytes:
                    raise SourceError(source, self._too_big(int(length)))
                body = self._read_body(response, source)
                return Fetched(str(response.url), ctype, body, dict(response.headers))
        except httpx.TimeoutException as exc:
            raise SourceError(source, f"no answer within {self.timeout:g} s") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise SourceError(source, "not a valid http(s) URL") from exc
        except httpx.TransportError as exc:
            if "resolves to a private address" in str(exc):  # GuardedBackend, at connect
                raise SourceError(
                    source, f"{exc}; pass --allow-private for your own network"
                ) from None
            reason = str(exc).split("] ")[-1].lower() or type(exc).__name__
            raise SourceError(source, f"cannot connect ({reason})") from exc

    def _read_body(self, response: httpx.Response, source: str) -> bytes:
        """The body, decoded in bounded steps: never more than the cap in memory."""
        try:
            decoder = BoundedDecoder(response.headers.get("content-encoding", ""), self.max_bytes)
            body = bytearray()
            for block in response.iter_raw():
                body += decoder.feed(block)
            body += decoder.finish()
        except CodingError as exc:
            raise SourceError(source, str(exc)) from None
        except OverflowError:
            raise SourceError(source, self._too_big(None)) from None
        return bytes(body)

    def budget_line(self) -> str:
        return f"the run's budget of {self.max_pages} fetches is spent; raise --max-pages"

    def _too_big(self, size: int | None) -> str:
        limit = f"the {self.max_bytes / 1e6:g} MB limit"
        return (
            f"response is {size / 1e6:.0f} MB, over {limit}"
            if size
            else f"response is over {limit}"
        )


def _private(host: str, address: str) -> str:
    return (
        f"{host} resolves to a private address ({address}); "
        "pass --allow-private for your own network"
    )
