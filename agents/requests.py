"""What a user may ask an exporter for: one typed model per export kind.

Each `*Params` model holds every default, range and allowed value of one export (the rule lives
here only); `*Request` adds the sources and is the graph's input. `ExportRequest` is the REST
export body, a union discriminated on `format`, so OpenAPI shows every format's parameters.
A later export adds its `*Export` class and one line to `EXPORTS`.

No parameter names a server path: a logo is the id of an image the same owner uploaded (a
figure of one of their sources or an uploaded asset), checked against the owner at the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from agents.doc_requests import (
    EbookParams,
    FlashcardsParams,
    Language,
    NewsletterParams,
    QuizParams,
    ReportParams,
    SlidesParams,
)
from agents.script import BRIEF_MAX_MINUTES, Brief, Host, ScriptEdit
from storage.errors import BadInput
from tools import tts

ID = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Voice = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=500)]
PodcastStyle = Literal["conversational", "interview", "lecture"]
EpisodeFormat = Literal["deep-dive", "brief", "critique", "debate"]
VideoStyle = Literal["explainer", "short"]
Aspect = Literal["16:9", "9:16"]
VIDEO_DEFAULTS: dict[str, tuple[float, Aspect]] = {"explainer": (60.0, "16:9"),
                                                   "short": (30.0, "9:16")}
STRICT = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)


def default_hosts(style: str) -> int:
    """The one hosts default: a lecture has one speaker, every other style two."""
    return 1 if style == "lecture" else 2


def _fill(data: Any, key: str, value: Any) -> Any:
    if isinstance(data, dict) and key not in data:
        return {**data, key: value}
    return data


class PodcastParams(BaseModel):
    """The parameters of a podcast episode."""

    model_config = STRICT
    minutes: float = Field(5.0, ge=0.5, le=60)
    """Length of the episode in minutes (0.5 to 60)."""
    hosts: int = Field(2, ge=1, le=4)
    """Number of speakers (1 to 4); default 1 for a lecture, else 2."""
    style: PodcastStyle = "conversational"
    """conversational, interview or lecture."""
    episode_format: EpisodeFormat = "deep-dive"
    """deep-dive, brief (one voice, under 2 minutes), critique (strengths and weaknesses of the
    sources) or debate (two hosts argue positions the sources support)."""
    voices: list[Voice] | None = Field(None, min_length=1, max_length=4)
    """Voice ids, one per host in order (default: distinct offline voices)."""
    topic: Text | None = None
    """Focus the episode on this."""
    audience: Text | None = None
    """Who the episode is for."""
    title: Text | None = None
    """Episode title (default: from the sources' titles)."""
    writer: Literal["extractive", "llm"] | None = None
    """Script writer; default: the LLM when one is configured, else extractive."""
    wav: bool = False
    """Also keep a WAV master."""
    music: bool = True
    """Intro/outro jingle."""
    max_cost: float | None = Field(None, ge=0)
    """Refuse the run when the estimated voice cost in USD exceeds this."""
    commercial: bool = False
    """Refuse sources whose licence forbids commercial use or derivatives."""
    review: bool = False
    """Stop after writing the script for the owner to read, edit and approve before audio."""
    script: ScriptEdit | None = None
    """A reviewed script applied to the written one without stopping (a recipe records the
    owner's approved edits here)."""
    language: Language | None = None
    """Language to write and speak in (ISO 639-1: en, es, pt, fr, it, de); default: the
    sources' dominant language. Another language than a source's needs an LLM to translate."""

    @model_validator(mode="before")
    @classmethod
    def _by_style_and_format(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("episode_format") == "brief":
            data = _fill(_fill(data, "hosts", 1), "minutes", BRIEF_MAX_MINUTES * 0.75)
        return _fill(data, "hosts", default_hosts(str(data.get("style", "conversational"))))

    @model_validator(mode="after")
    def _format_fits(self) -> PodcastParams:
        if self.episode_format == "brief" and self.minutes > BRIEF_MAX_MINUTES:
            raise ValueError(f"a brief is under {BRIEF_MAX_MINUTES:g} minutes "
                             f"(asked {self.minutes:g})")
        if self.episode_format == "brief" and self.hosts != 1:
            raise ValueError(f"a brief has one voice (asked {self.hosts} hosts)")
        if self.episode_format == "debate" and self.hosts < 2:
            raise ValueError("a debate needs at least 2 hosts")
        return self

    def brief(self) -> Brief:
        return Brief(minutes=self.minutes, hosts=self.hosts, style=self.style,
                     format=self.episode_format, topic=self.topic, audience=self.audience,
                     title=self.title, language=self.language or "en")


class VideoParams(BaseModel):
    """The parameters of a narrated video."""

    model_config = STRICT
    style: VideoStyle = "explainer"
    """explainer (landscape, 60 s) or short (portrait, 30 s)."""
    seconds: float = Field(60.0, ge=10, le=1800)
    """Length in seconds (10 to 1800); default 60 for explainer, 30 for short."""
    aspect: Aspect = "16:9"
    """16:9 or 9:16; default by style."""
    captions: Literal["burn", "srt", "none"] = "burn"
    """Burn captions into the picture, add an SRT track, or none."""
    voices: list[Voice] | None = Field(None, min_length=1, max_length=1)
    """The narrator's voice id."""
    topic: Text | None = None
    """Focus the video on this."""
    title: Text | None = None
    """Video title (default: from the sources' titles)."""
    music: bool = True
    """Background music ducked under the speech."""
    watermark: Annotated[str, Field(max_length=100)] | None = None
    """Text in the top corner."""
    logo: ID | None = None
    """Id of a PNG/JPEG you uploaded (a figure of one of your sources, or an asset) for the top
    corner."""
    backend: Literal["auto", "kling", "veo", "runway", "synthesia"] | None = None
    """Cloud clips for title/section scenes (needs its key; falls back to local rendering)."""
    commercial: bool = False
    """Refuse sources whose licence forbids commercial use or derivatives."""
    review: bool = False
    """Stop after writing the script for the owner to read, edit and approve before audio."""
    script: ScriptEdit | None = None
    """A reviewed script applied to the written one without stopping (a recipe records the
    owner's approved edits here)."""
    language: Language | None = None
    """Language to write, speak and caption in (ISO 639-1: en, es, pt, fr, it, de); default: the
    sources' dominant language. Another language than a source's needs an LLM to translate."""

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_style(cls, data: Any) -> Any:
        style = data.get("style", "explainer") if isinstance(data, dict) else "explainer"
        seconds, aspect = VIDEO_DEFAULTS.get(str(style), VIDEO_DEFAULTS["explainer"])
        return _fill(_fill(data, "seconds", seconds), "aspect", aspect)

    def brief(self) -> Brief:
        return Brief(minutes=self.seconds / 60, hosts=1, style="lecture", topic=self.topic,
                     title=self.title, language=self.language or "en")


Sources = Annotated[list[Annotated[str, Field(min_length=1, max_length=4096)]],
                    Field(min_length=1, max_length=100)]


class RunFields(BaseModel):
    """What every export graph takes beside its parameters."""

    sources: Sources
    """Library source ids (the CLI also takes files and URLs, imported first)."""
    version_of: ID | None = None
    """The artifact this run remakes (set by regenerate)."""
    reason: Annotated[str, Field(max_length=500)] | None = None
    """Why it is remade."""


class PodcastRequest(PodcastParams, RunFields):
    """A podcast job's input."""


class VideoRequest(VideoParams, RunFields):
    """A video job's input."""


class ReportRequest(ReportParams, RunFields):
    """A report job's input."""


class EbookRequest(EbookParams, RunFields):
    """An ebook job's input."""


class FlashcardsRequest(FlashcardsParams, RunFields):
    """A flashcards job's input."""


class QuizRequest(QuizParams, RunFields):
    """A quiz job's input."""


class NewsletterRequest(NewsletterParams, RunFields):
    """A newsletter job's input."""


class SlidesRequest(SlidesParams, RunFields):
    """A slide deck job's input."""


REQUESTS: dict[str, type[RunFields]] = {
    "podcast": PodcastRequest, "video": VideoRequest, "report": ReportRequest,
    "ebook": EbookRequest, "flashcards": FlashcardsRequest, "quiz": QuizRequest,
    "newsletter": NewsletterRequest, "slides": SlidesRequest}


def request_of(kind: str, data: Any) -> Any:
    """The validated request of an export kind from a job input, state or CLI options (other
    keys and None values dropped: None means the default); BadInput names the first error."""
    model = REQUESTS[kind]
    try:
        return model.model_validate({k: v for k, v in dict(data).items()
                                     if k in model.model_fields and v is not None})
    except ValidationError as exc:
        raise BadInput(first_error(exc)) from None


def first_error(exc: ValidationError) -> str:
    """One line for the first problem: `where: what`."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))


# --- REST export body -----------------------------------------------------------------------

class _Export(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)
    format: str
    """The export kind."""
    parameters: Any
    source_ids: Annotated[list[ID], Field(min_length=1, max_length=100)]
    """Library source ids to generate from."""
    priority: int = Field(5, ge=1, le=10)
    """Job priority, 1 (low) to 10 (high)."""


class PodcastExport(_Export):
    format: Literal["podcast"]
    parameters: PodcastParams = Field(default_factory=lambda: PodcastParams.model_validate({}))


class VideoExport(_Export):
    format: Literal["video"]
    parameters: VideoParams = Field(default_factory=lambda: VideoParams.model_validate({}))


class ReportExport(_Export):
    format: Literal["report"]
    parameters: ReportParams = Field(default_factory=lambda: ReportParams.model_validate({}))


class EbookExport(_Export):
    format: Literal["ebook"]
    parameters: EbookParams = Field(default_factory=lambda: EbookParams.model_validate({}))


class FlashcardsExport(_Export):
    format: Literal["flashcards"]
    parameters: FlashcardsParams = Field(
        default_factory=lambda: FlashcardsParams.model_validate({}))


class QuizExport(_Export):
    format: Literal["quiz"]
    parameters: QuizParams = Field(default_factory=lambda: QuizParams.model_validate({}))


class NewsletterExport(_Export):
    format: Literal["newsletter"]
    parameters: NewsletterParams = Field(
        default_factory=lambda: NewsletterParams.model_validate({}))


class SlidesExport(_Export):
    format: Literal["slides"]
    parameters: SlidesParams = Field(default_factory=lambda: SlidesParams.model_validate({}))


class PluginExport(_Export):
    """An exporter installed as a plugin: its graph checks its own parameters (or its
    `GraphSpec.request` model does, at the request)."""

    format: Annotated[str, Field(min_length=1, max_length=50)]
    parameters: dict[str, Any] = Field(default_factory=dict)


EXPORTS: dict[str, type[_Export]] = {  # a new export kind adds its line here
    "podcast": PodcastExport,
    "video": VideoExport,
    "report": ReportExport,
    "ebook": EbookExport,
    "flashcards": FlashcardsExport,
    "quiz": QuizExport,
    "newsletter": NewsletterExport,
    "slides": SlidesExport,
}


def _format_of(body: Any) -> str:
    fmt = body.get("format") if isinstance(body, dict) else getattr(body, "format", None)
    return fmt if isinstance(fmt, str) and fmt in EXPORTS else "plugin"


if TYPE_CHECKING:
    ExportRequest = _Export
else:
    ExportRequest = Annotated[
        Union[tuple(Annotated[m, Tag(k)]  # noqa: UP007 (a union built from EXPORTS)
                    for k, m in {**EXPORTS, "plugin": PluginExport}.items())],
        Discriminator(_format_of)]
"""The REST export body: `format` picks the parameters model."""


# --- search ---------------------------------------------------------------------------------

SearchMode = Literal["hybrid", "dense", "sparse"]
Values = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]],
                   Field(max_length=50)]


class SearchRequest(BaseModel):
    """A library search, as the CLI, REST and chat ask it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)
    q: str = Field(min_length=1, max_length=2000)
    """What to look for: a question, a phrase, exact terms, acronyms or numbers."""
    limit: int = Field(10, ge=1, le=100)
    """How many chunks to return."""
    mode: SearchMode = "hybrid"
    """hybrid: meaning and exact terms fused by reciprocal rank; dense: meaning only;
    sparse: exact terms only (BM25)."""
    source: Values = []
    """Only these source ids."""
    kind: Values = []
    """Only sources of these kinds (pdf, webpage, docx, markdown, audio, video, ...)."""
    language: Values = []
    """Only sources in these languages (ISO 639-1, e.g. en, es)."""
    licence: Values = []
    """Only sources under these licences (SPDX-style ids, e.g. CC-BY-4.0)."""

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of `services.catalog.search` besides the query."""
        return {"limit": self.limit, "mode": self.mode, "source_ids": self.source or None,
                "kinds": self.kind or None, "languages": self.language or None,
                "licences": self.licence or None}


# --- cost -----------------------------------------------------------------------------------

def estimate_cost(voices: list[tts.Voice], hosts: list[Host], seconds_per_word: dict[str, float],
                  speech_s: float) -> dict[str, Any]:
    """What `speech_s` seconds of speech will cost, from the voices' pace (seconds per word per
    host name, measured by `agents.narrator.seconds_per_word`)."""
    spw = [seconds_per_word[h.name] for h in hosts if h.name in seconds_per_word] or [
        60.0 / (tts.DEFAULT_WPM * v.speed) for v in voices]
    chars = int(max(0.0, speech_s) / (sum(spw) / len(spw)) * tts.CHARS_PER_WORD)
    cost = sum(tts.estimate(chars // len(voices), v)["cost_usd"] for v in voices)
    return {"chars": chars, "tts_cost_usd": round(cost, 2), "target_speech_s": round(speech_s, 1),
            "voices": [v.id for v in voices],
            "paid_voices": [v.id for v in voices if v.provider == "elevenlabs"]}
