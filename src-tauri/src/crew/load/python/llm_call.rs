//! An `llm=` argument as CrewAI code writes it: a model string, `LLM(model=…, temperature=…,
//! base_url=…, api_key=…, max_tokens=…)`, or a provider's class (`Ollama(model="llama3.1")`,
//! `ChatOpenAI(model=…)`, …), read into a model string and [`LlmSettings`].

use super::syntax::{Call, Expr};
use crate::crew::LlmSettings;

/// Provider classes (LangChain's and CrewAI's) and the model-string prefix each stands for.
const PROVIDER_CLASSES: &[(&str, &str)] = &[
    ("Ollama", "ollama"),
    ("OllamaLLM", "ollama"),
    ("ChatOllama", "ollama"),
    ("ChatOpenAI", "openai"),
    ("OpenAI", "openai"),
    ("ChatAnthropic", "anthropic"),
    ("ChatGroq", "groq"),
    ("ChatGoogleGenerativeAI", "gemini"),
    ("ChatMistralAI", "mistral"),
    ("ChatDeepSeek", "deepseek"),
];

/// A model read from an `llm=` argument.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct LlmValue {
    /// The model string (`ollama/llama3.1`).
    pub model: String,
    pub settings: LlmSettings,
    /// The call's arguments that were not applied, each with the reason.
    pub ignored: Vec<(String, String)>,
}

/// Reads `expr`; `variable` gives the value of a plain name (`llm=my_llm`). `Err` says why the
/// argument cannot be read.
pub(crate) fn read_llm<'e>(expr: &'e Expr, variable: &dyn Fn(&str) -> Option<&'e Expr>) -> Result<LlmValue, String> {
    let mut expr = expr;
    // Follow `llm=my_llm` (or a class attribute, `llm=self.my_llm`) through a few assignments.
    for _ in 0..4 {
        match expr {
            Expr::Name(n) if !n.contains('.') || n.starts_with("self.") => match variable(n) {
                Some(value) => expr = value,
                None => return Err(format!("`{n}` is not assigned in the project's Python files")),
            },
            _ => break,
        }
    }
    match expr {
        Expr::Str(s) if !s.trim().is_empty() => Ok(LlmValue { model: s.trim().to_string(), ..LlmValue::default() }),
        Expr::Call(call) => read_call(call),
        Expr::Other(t) => Err(format!("`{t}` is computed in Python; write a model string or LLM(model=…)")),
        _ => Err("expected a model string, LLM(model=…) or a provider class".into()),
    }
}

fn read_call(call: &Call) -> Result<LlmValue, String> {
    let class = call.short_name();
    let prefix = match class {
        "LLM" => None,
        _ => match PROVIDER_CLASSES.iter().find(|(c, _)| *c == class) {
            Some((_, prefix)) => Some(*prefix),
            None => return Err(format!("`{class}` is not an LLM class the native engine knows")),
        },
    };
    let model = match call.kwarg("model").or_else(|| call.kwarg("model_name")).or_else(|| call.args.first()) {
        Some(Expr::Str(m)) if !m.trim().is_empty() => m.trim().to_string(),
        Some(_) => return Err(format!("`{class}(model=…)`: the model is not a literal text")),
        None => return Err(format!("`{class}(…)` names no model")),
    };
    let model = match prefix {
        Some(p) if !model.starts_with(&format!("{p}/")) => format!("{p}/{model}"),
        _ => model,
    };
    let mut out = LlmValue { model, ..LlmValue::default() };
    for kwarg in &call.kwargs {
        let name = kwarg.name.as_str();
        match (name, &kwarg.value) {
            ("model" | "model_name", _) => {}
            ("temperature", Expr::Float(t)) => out.settings.temperature = Some(*t as f32),
            ("temperature", Expr::Int(t)) => out.settings.temperature = Some(*t as f32),
            ("max_tokens" | "num_predict", Expr::Int(n)) if *n > 0 => out.settings.max_tokens = u32::try_from(*n).ok(),
            ("base_url" | "api_base" | "base", Expr::Str(b)) if !b.trim().is_empty() => out.settings.base_url = Some(b.trim().to_string()),
            ("api_key", value) => match env_var(value) {
                Some(var) => out.settings.api_key_env = Some(var),
                None => out.ignored.push((
                    name.into(),
                    "a key written in the code is not stored; use os.getenv(\"VAR\") or the provider's variable in .env".into(),
                )),
            },
            (_, value) if super::literal::to_json(value).is_none() => {
                out.ignored.push((name.into(), format!("`{}` is not a literal; ignored", kwarg.text)))
            }
            _ => out.ignored.push((name.into(), format!("LLM setting `{name}` is not supported by the native engine; ignored"))),
        }
    }
    Ok(out)
}

/// The variable in `os.getenv("X")`, `os.environ.get("X")`, `os.environ["X"]`, `getenv("X")`.
fn env_var(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Call(c) if matches!(c.func.as_str(), "os.getenv" | "getenv" | "os.environ.get" | "environ.get") => match c.args.first() {
            Some(Expr::Str(v)) => Some(v.clone()),
            _ => None,
        },
        Expr::Subscript { value, index } if value == "os.environ" || value == "environ" => match index.as_ref() {
            Expr::Str(v) => Some(v.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::syntax::parse;
    use super::*;

    fn llm_of(code: &str) -> Result<LlmValue, String> {
        let py = parse(code).unwrap();
        let value = py.assignments.last().unwrap().value.clone();
        let lookup = |n: &str| py.assignments.iter().find(|a| a.target == n).map(|a| &a.value);
        read_llm(&value, &lookup).map_err(|e| e.to_string())
    }

    #[test]
    fn strings_llm_calls_and_provider_classes() {
        assert_eq!(llm_of("x = 'openai/gpt-4o'").unwrap().model, "openai/gpt-4o");
        let v =
            llm_of("x = LLM(model='gpt-4o', temperature=0.2, max_tokens=300, base_url='http://h/v1', api_key=os.getenv('K'), top_p=0.9)")
                .unwrap();
        assert_eq!(v.model, "gpt-4o");
        assert_eq!(
            v.settings,
            LlmSettings {
                temperature: Some(0.2),
                max_tokens: Some(300),
                base_url: Some("http://h/v1".into()),
                api_key_env: Some("K".into())
            }
        );
        assert_eq!(v.ignored.len(), 1);
        assert_eq!(llm_of("x = Ollama(model=\"llama3.1\")").unwrap().model, "ollama/llama3.1");
        assert_eq!(llm_of("m = LLM(model='ollama/qwen')\nx = m").unwrap().model, "ollama/qwen");
        assert_eq!(llm_of("class C:\n    ollama_llm = Ollama(model='llama3.1')\nx = self.ollama_llm").unwrap().model, "ollama/llama3.1");
        assert!(llm_of("x = Mystery(model='a')").is_err());
        assert!(llm_of("x = pick_model()").is_err());
        assert_eq!(llm_of("x = LLM(model='a', api_key='sk-1')").unwrap().settings.api_key_env, None);
    }
}
