"""GGUF chat templates judged on Jinja's syntax tree (issue 14): payloads that build their names
at render time are caught, real-world templates stay clean. Every malicious template would
create the canary marker if a renderer ran it unsandboxed."""

from __future__ import annotations

import pytest

from crownwatch.scan.jinja_check import check_template

from .conftest import scan1
from .pkw import SHELL
from .test_formats import gguf

POPEN = ".os.popen('" + SHELL + "').read()"

INDIRECT = [
    # string concatenation inside the attr filter
    "{{ (cycler|attr('__in' ~ 'it__')|attr('__glo' ~ 'bals__'))" + POPEN + " }}",
    # Python-style + and * on literals
    "{{ (joiner|attr('_' * 2 + 'init' + '_' * 2)|attr('__globals__'))" + POPEN + " }}",
    # |format building underscores from character codes
    "{{ (lipsum|attr('%c%cglobals%c%c'|format(95, 95, 95, 95)))" + POPEN + " }}",
    # join of a literal list
    "{{ (lipsum|attr(['_', '_glob', 'als_', '_']|join))" + POPEN + " }}",
    # reverse / replace
    "{{ (lipsum|attr('__slabolg__'|reverse))" + POPEN + " }}",
    "{{ (lipsum|attr('XXglobalsXX'|replace('X', '_')))" + POPEN + " }}",
    # the name travels through {% set %} variables
    "{% set u = '_' ~ '_' %}{% set g = u ~ 'globals' ~ u %}{{ (lipsum|attr(g))" + POPEN + " }}",
    "{% set g %}__globals__{% endset %}{{ (lipsum|attr(g))" + POPEN + " }}",
    # ... or a {% for %} over literals
    "{% for k in ['__glo' ~ 'bals__'] %}{{ (lipsum|attr(k))" + POPEN + " }}{% endfor %}",
    # subscripts instead of attributes
    "{{ cycler['__init__']['__globals__']['os']['popen']('" + SHELL + "') }}",
    "{% set k = '__glo' ~ 'bals__' %}{{ lipsum[k]['os'].popen('" + SHELL + "') }}",
    # the name comes from render-time data: unknowable statically, refused
    "{{ (lipsum|attr(messages[0]['content']))" + POPEN + " }}",
    # namespace / cycler / joiner walks
    "{{ namespace.__init__.__globals__.__builtins__.__import__('os').popen('" + SHELL + "') }}",
    "{{ joiner.__init__.__globals__.os.popen('" + SHELL + "') }}",
    # map(attribute=...) and selectattr reach attributes too
    "{{ [lipsum]|map(attribute='__globals__')|map(attribute='os')|first }}",
    "{{ [lipsum]|map('attr', '__glo' ~ 'bals__')|list }}",
    # str.format walks attributes in C, below any attribute check
    "{{ '{0.__init__.__globals__[os].popen}'.format(cycler)('" + SHELL + "') }}",
    # dict(__class__=...) to smuggle a dunder name as a key
    "{{ ''|attr(dict(__class__=1)|first) }}",
    # hex escapes are decoded by the lexer
    "{{ (lipsum|attr('\\x5f\\x5fglobals\\x5f\\x5f'))" + POPEN + " }}",
    # HF-style {% generation %} blocks do not hide anything
    "{% generation %}{{ cycler.__init__.__globals__" + POPEN + " }}{% endgeneration %}",
]


@pytest.mark.parametrize("tpl", INDIRECT)
def test_indirect_template_payloads_are_malicious(tpl):
    r = scan1(gguf({"tokenizer.chat_template": tpl}), "m.gguf")
    assert r.verdict == "malicious", (tpl, r.to_dict())
    assert any(i.kind == "gguf.template_injection" for i in r.issues)


REAL = [
    # Llama 3.1 style with tools
    "{{- bos_token }}{%- if custom_tools is defined %}{%- set tools = custom_tools %}{%- endif %}"
    "{%- if not tools_in_user_message is defined %}{%- set tools_in_user_message = true %}"
    "{%- endif %}{%- if not date_string is defined %}{%- set date_string = '26 Jul 2024' %}"
    "{%- endif %}{%- if messages[0]['role'] == 'system' %}"
    "{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}"
    "{%- else %}{%- set system_message = '' %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}"
    "{%- if tools is not none %}{{- 'Environment: ipython\\n' }}{%- endif %}"
    "{{- 'Today Date: ' + date_string + '\\n\\n' }}"
    "{%- for t in tools %}{{- t | tojson(indent=4) }}{{- '\\n\\n' }}{%- endfor %}"
    "{%- for message in messages %}"
    "{%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    "+ message['content'] | trim + '<|eot_id|>' }}"
    "{%- elif 'tool_calls' in message %}{%- set tool_call = message.tool_calls[0].function %}"
    '{{- \'{"name": "\' + tool_call.name + \'", "parameters": \' }}'
    "{{- tool_call.arguments | tojson }}{{- '}' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}",
    # Qwen 2.5 style
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- if messages[0]['role'] == 'system' %}"
    "{{- messages[0]['content'] }}{%- endif %}{%- for tool in tools %}{{- '\\n' }}"
    "{{- tool | tojson }}{%- endfor %}{%- endif %}{%- for message in messages %}"
    "{%- if (message.role == 'user') or (message.role == 'assistant' and not message.tool_calls) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'tool' %}{%- if (loop.index0 == 0) or "
    "(messages[loop.index0 - 1].role != 'tool') %}{{- '<|im_start|>user' }}{%- endif %}"
    "{{- message.content }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
    # DeepSeek R1 style: namespace, split, loop controls
    "{% set ns = namespace(is_first=false, is_tool=false, system_prompt='') %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}"
    "{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' and message['content'] is not none %}"
    "{% set content = message['content'] %}{% if '</think>' in content %}"
    "{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{%- endif %}"
    "{%- if loop.index > 100 %}{% break %}{% endif %}{%- endfor %}",
    # Mistral style: raise_exception, alternation check, selectattr
    "{%- set user_messages = messages | selectattr('role', 'equalto', 'user') | list %}"
    "{%- for message in messages | rejectattr('role', 'equalto', 'system') %}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{- raise_exception('After the optional system message, roles must alternate') }}"
    "{%- endif %}{%- if message['role'] == 'user' %}{{- '[INST] ' + message['content'] + '[/INST]' }}"
    "{%- else %}{{- message['content'] + eos_token }}{%- endif %}{%- endfor %}",
    # Gemma style with map(attribute=) and a keyed lookup through a loop variable
    "{% set roles = {'user': 'user', 'assistant': 'model'} %}"
    "{% for message in messages %}{{ '<start_of_turn>' + roles[message['role']] + '\\n' }}"
    "{{ message['content'] | trim }}{% endfor %}"
    "{{ messages | map(attribute='content') | join(' ') | length }}"
    "{% for key in tool %}{{ key }}={{ tool[key] }}{% endfor %}"
    "{{ '{}'.format(bos_token) }}{{ strftime_now('%d %b %Y') }}",
]


@pytest.mark.parametrize("tpl", REAL)
def test_real_world_templates_are_clean(tpl):
    findings, problem = check_template(tpl)
    assert problem is None and not findings, [(f.severity, f.reason) for f in findings]
    r = scan1(gguf({"tokenizer.chat_template": tpl, "tokenizer.ggml.tokens": ["a"]}), "m.gguf")
    assert r.verdict == "clean", r.to_dict()


def test_template_loading_other_templates_is_suspicious():
    r = scan1(gguf({"tokenizer.chat_template": "{% include 'x.j2' %}"}), "m.gguf")
    assert r.verdict == "suspicious"


def test_unparseable_template_falls_back_to_text_patterns():
    bad = "{{ cycler.__init__.__globals__.os.popen('" + SHELL + "') }} {% endfor %}"
    r = scan1(gguf({"tokenizer.chat_template": bad}), "m.gguf")
    assert r.verdict == "malicious"
    assert any(i.kind == "gguf.template_unparsed" for i in r.issues)
    r = scan1(gguf({"tokenizer.chat_template": "{% for %}"}), "m.gguf")
    assert r.verdict == "clean"


def test_parsing_never_renders():
    # a template that would create the marker the moment it rendered: only parsed here
    tpl = "{{ cycler.__init__.__globals__.os.popen('" + SHELL + "').read() }}"
    findings, problem = check_template(tpl)
    assert problem is None and any(f.severity == "critical" for f in findings)


def test_hostile_template_shapes_are_bounded():
    deep = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    r = scan1(gguf({"tokenizer.chat_template": deep}), "m.gguf")
    assert r.verdict in ("clean", "suspicious")
    huge = "{{ x }}" * 200_000  # 1.4 MB
    r = scan1(gguf({"tokenizer.chat_template": huge}), "m.gguf")
    assert r.verdict == "suspicious"
